package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Guests written in Rust with the {@code tinywasm} crate ({@code guests/rust/}), built by guests/build.sh with
 * Debian's rustc for wasm32-wasi, run for real: the test guest {@code probe} (see its lib.rs for its commands)
 * and the sample's {@code stats}.
 */
class RustGuestTest {

    private static final String GUEST_LOGGER = "io.github.tinywasm.wasi.guest.probe";

    /** What the guests sent to WebSocket clients, as "module topic" and the frame's bytes. */
    private final List<Frame> frames = new CopyOnWriteArrayList<>();
    private WasiServer server;

    private record Frame(String module, String topic, byte[] payload) {}

    private WasiServer server(Engine engine) {
        server = new WasiServer(WasiConfig.builder().engine(engine).build(),
                (module, topic, payload) -> frames.add(new Frame(module, topic, payload)));
        return server;
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void bytesGoBothWaysExactly(Engine engine) {
        WasiServer s = server(engine);
        s.load("probe", Guests.built("probe"));
        Collector out = new Collector();
        s.subscribe("probe.out", out);

        byte[] everyByte = new byte[256];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i; // 0, invalid UTF-8, 0xFF: a payload is bytes, not text
        }
        byte[] large = new byte[300 * 1024];
        new Random(13).nextBytes(large);
        List<byte[]> sent = List.of(everyByte, new byte[0], large, "héllo wörld".getBytes(StandardCharsets.UTF_8));
        sent.forEach(p -> s.publish("probe.in", p));

        List<Message> got = out.awaitCount(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            assertThat(got.get(i).payload()).as("message %d", i).isEqualTo(sent.get(i));
            assertThat(got.get(i).source()).isEqualTo("probe");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> frames.size() >= sent.size());
        for (int i = 0; i < sent.size(); i++) {
            Frame frame = frames.get(i);
            assertThat(frame.module()).isEqualTo("probe");
            assertThat(frame.topic()).isEqualTo("probe.ws");
            assertThat(frame.payload()).as("frame %d", i).isEqualTo(sent.get(i));
        }
        // counters move after the guest's calls return: wait for them rather than race the worker
        await().atMost(Duration.ofSeconds(20))
                .until(() -> s.module("probe").orElseThrow().counters().delivered() == sent.size());
        ModuleCounters counters = s.module("probe").orElseThrow().counters();
        assertThat(counters.errors()).isZero();
        assertThat(counters.published()).isEqualTo(sent.size());
        assertThat(counters.broadcasts()).isEqualTo(sent.size());
    }

    @Test
    void itsStateCrossesAHotSwapThroughTheSdksStateTrait() {
        WasiServer s = server(Engine.COMPILER);
        byte[] probe = Guests.built("probe");
        s.load("probe", probe);
        Collector count = new Collector();
        s.subscribe("probe.count", count);
        s.publish("probe.in", "one");
        s.publish("probe.in", "two");
        s.publish("probe.ctl", "count");
        assertThat(count.awaitCount(1).get(0).payloadAsString()).isEqualTo("3");

        s.load("probe", probe); // a hot swap: state_save of the old instance, state_load of the new one
        s.publish("probe.ctl", "count");
        assertThat(count.awaitCount(2).get(1).payloadAsString()).as("the count went on").isEqualTo("4");

        // a guest that does not opt in exports nothing new
        assertThat(exports(Guests.built("stats"))).doesNotContain("state_save", "state_load");
        assertThat(exports(probe)).contains("state_save", "state_load");
    }

    private static List<String> exports(byte[] wasm) {
        com.dylibso.chicory.wasm.types.ExportSection section = com.dylibso.chicory.wasm.Parser.parse(wasm).exportSection();
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < section.exportCount(); i++) {
            names.add(section.getExport(i).name());
        }
        return names;
    }

    @Test
    void subscribesInInitAndLogsUnderItsOwnName() {
        try (LogCapture logs = new LogCapture()) {
            WasiServer s = server(Engine.COMPILER);
            s.load("probe", Guests.built("probe"));
            assertThat(s.module("probe").orElseThrow().topics()).containsExactly("probe.ctl", "probe.in");
            assertThat(logs.contains(GUEST_LOGGER, "[probe] probe ready")).isTrue();

            // the probe also calls f64::ln, which links libm's `log`: the env.log import must stay the host's
            Collector ln = new Collector();
            s.subscribe("probe.count", ln);
            s.publish("probe.ctl", "ln 10");
            s.publish("probe.ctl", "log hello from Rust, ünïcode too");
            s.publish("probe.ctl", "bogus");
            await().atMost(Duration.ofSeconds(20)).until(() -> logs.contains(GUEST_LOGGER, "[probe] unknown command \"bogus\""));
            assertThat(logs.contains(GUEST_LOGGER, "[probe] hello from Rust, ünïcode too")).isTrue();
            assertThat(ln.awaitCount(1).get(0).payloadAsString()).isEqualTo("2.303");
        }
    }

    @Test
    void subscribesAndUnsubscribesFromAHandler() {
        WasiServer s = server(Engine.COMPILER);
        s.load("probe", Guests.built("probe"));
        Collector seen = new Collector();
        s.subscribe("probe.seen", seen);

        s.publish("probe.ctl", "subscribe extra");
        seen.awaitCount(1);
        assertThat(s.module("probe").orElseThrow().topics()).containsExactly("extra", "probe.ctl", "probe.in");
        s.publish("extra", "one");
        s.publish("probe.ctl", "unsubscribe extra");
        seen.awaitCount(3);
        assertThat(s.module("probe").orElseThrow().topics()).containsExactly("probe.ctl", "probe.in");
        s.publish("extra", "two"); // nobody listens any more: had it reached the probe, it would come before the mark
        s.publish("probe.ctl", "mark after");

        assertThat(seen.awaitCount(4)).extracting(Message::payloadAsString)
                .containsExactly("subscribed extra", "extra:one", "unsubscribed extra", "mark:after");
        await().atMost(Duration.ofSeconds(20)).until(() -> s.module("probe").orElseThrow().counters().delivered() == 4);
        assertThat(s.module("probe").orElseThrow().counters().droppedTotal()).isZero();
    }

    /**
     * The host frees every buffer it got from the guest's malloc (wasi-libc's, exported by the crate's build
     * configuration) once the handler returns: 100 MiB of messages leave the guest's memory where the first
     * one left it. Without the free export the guest would keep every payload and grow by ~1600 pages.
     */
    @Test
    void memoryStaysFlatOverManyMessages() {
        WasiServer s = server(Engine.COMPILER);
        s.load("probe", Guests.built("probe"));
        Collector out = new Collector();
        s.subscribe("probe.out", out);
        byte[] payload = new byte[256 * 1024];
        new Random(7).nextBytes(payload);

        s.publish("probe.in", payload);
        out.awaitCount(1);
        long afterFirst = s.module("probe").orElseThrow().memoryBytes();
        int n = 400;
        for (int i = 0; i < n; i++) {
            s.publish("probe.in", payload);
        }
        List<Message> got = out.awaitCount(n + 1, Duration.ofSeconds(60));
        long afterAll = s.module("probe").orElseThrow().memoryBytes();

        assertThat(got.get(n).payload()).isEqualTo(payload);
        // a little slack for the allocator's own bookkeeping; a leak would be 400 x 256 KiB
        assertThat(afterAll).isLessThanOrEqualTo(afterFirst + 4L * WasiConfig.PAGE_SIZE);
        assertThat(s.module("probe").orElseThrow().counters().errors()).isZero();
    }

    @Test
    void panicTrapsThatMessageOnlyAndStateSurvives() {
        try (LogCapture logs = new LogCapture()) {
            WasiServer s = server(Engine.COMPILER);
            s.load("probe", Guests.built("probe"));
            Collector count = new Collector();
            s.subscribe("probe.count", count);

            s.publish("probe.ctl", "panic");
            s.publish("probe.ctl", "count");

            assertThat(count.awaitCount(1).get(0).payloadAsString()).isEqualTo("2"); // the panicking message counted too
            ModuleInfo info = s.module("probe").orElseThrow();
            assertThat(info.counters().traps()).isEqualTo(1);
            assertThat(info.lastError()).contains("probe");
            assertThat(logs.contains(GUEST_LOGGER, "probe was asked to panic")).isTrue();
        }
    }

    @Test
    void drainAnswersBusyUntilItsWorkIsDone() {
        try (LogCapture logs = new LogCapture()) {
            WasiServer s = server(Engine.COMPILER);
            s.load("probe", Guests.built("probe"));
            Collector count = new Collector();
            s.subscribe("probe.count", count);
            s.publish("probe.ctl", "hold 3");
            s.publish("probe.ctl", "count");
            count.awaitCount(1);

            assertThat(s.unload("probe")).isTrue();

            List<String> drainLines = new ArrayList<>(logs.lines().stream()
                    .filter(l -> l.startsWith(GUEST_LOGGER) && l.contains("drain")).toList());
            assertThat(drainLines).hasSize(4);
            assertThat(drainLines.get(0)).endsWith("[probe] drain: busy, 2 more");
            assertThat(drainLines.get(3)).endsWith("[probe] drained after 3 busy answers");
        }
    }

    /** The sample app's Rust module: counts the other samples' inputs and shows browsers a JSON summary. */
    @Test
    void sampleStatsModuleSummarisesTraffic() {
        WasiServer s = server(Engine.COMPILER);
        s.load("stats", Guests.built("stats"));
        assertThat(s.module("stats").orElseThrow().topics()).containsExactly("chat.in", "echo.in", "users.requests");

        s.publish("chat.in", "Hello \"wasm\" hello");
        s.publish("echo.in", "ping");
        s.publish("users.requests", "add bob");

        await().atMost(Duration.ofSeconds(20)).until(() -> frames.size() >= 3);
        assertThat(frames).allSatisfy(f -> assertThat(f.topic()).isEqualTo("stats"));
        assertThat(new String(frames.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"total\":1,\"messages\":{\"chat.in\":1,\"echo.in\":0,\"users.requests\":0},"
                        + "\"words\":[[\"hello\",2],[\"wasm\",1]]}");
        assertThat(new String(frames.get(2).payload(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"total\":3,\"messages\":{\"chat.in\":1,\"echo.in\":1,\"users.requests\":1},"
                        + "\"words\":[[\"hello\",2],[\"wasm\",1]]}");
    }
}
