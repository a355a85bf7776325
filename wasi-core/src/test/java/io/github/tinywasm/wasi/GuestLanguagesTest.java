package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Guests written in each language the repository ships, built by guests/build.sh, run unchanged. */
class GuestLanguagesTest {

    private final WasiServer server = new WasiServer(WasiConfig.defaults());

    @AfterEach
    void close() {
        server.close();
    }

    @Test
    void assemblyScriptGuestWithGarbageCollectedRuntime() {
        server.load("shout", Guests.built("shout"));
        Collector out = new Collector();
        server.subscribe("shout.out", out);
        int n = 2000; // enough allocations for the incremental collector and heap.free to run many times
        for (int i = 0; i < n; i++) {
            server.publish("shout.in", "hello " + i);
        }
        List<Message> got = out.awaitCount(n);
        assertThat(got.get(0).payloadAsString()).isEqualTo("HELLO 0!");
        assertThat(got.get(n - 1).payloadAsString()).isEqualTo("HELLO " + (n - 1) + "!");
        assertThat(server.module("shout").orElseThrow().counters().errors()).isZero();
    }

    @Test
    void cGuestWithTopicAwareHandler() {
        server.load("logger", Guests.built("logger"));
        assertThat(server.module("logger").orElseThrow().topics()).containsExactly("chat.log", "users.changed");
        try (LogCapture logs = new LogCapture()) {
            server.publish("chat.log", "#1 hi");
            server.publish("users.changed", "added bob");
            org.awaitility.Awaitility.await().until(() -> logs.contains("io.github.tinywasm.wasi.guest.logger", "[users.changed] added bob"));
            assertThat(logs.contains("io.github.tinywasm.wasi.guest.logger", "[logger] [chat.log] #1 hi")).isTrue();
        }
    }

    @Test
    void handWrittenWatGuest() {
        java.util.List<String> frames = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (WasiServer s = new WasiServer(WasiConfig.defaults(), (m, t, p) -> frames.add(t + ":" + new String(p)))) {
            s.load("echo", Guests.built("echo"));
            s.publish("echo.in", "ping");
            org.awaitility.Awaitility.await().until(() -> frames.contains("echo:ping"));
        }
    }
}
