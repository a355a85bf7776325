package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HotSwapTest {

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /** Version {@code v} of the subscriber: relays "numbers" to "seen-v". */
    private static byte[] subscriber(int v) {
        return Guests.relay("numbers", "seen-" + v);
    }

    private static void replaceAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The design's invariant: every message published to a topic the module subscribes to before and after
     * the swap is delivered exactly once, in order, to the old or the new instance, while the file is replaced
     * several times under a steady stream.
     */
    @Test
    void swapUnderLoadLosesAndDuplicatesNothing() throws Exception {
        Path file = dir.resolve("sub.wasm");
        Files.write(file, subscriber(1));
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watchQuietPeriod(Duration.ofMillis(50))
                .watchPollInterval(Duration.ofMillis(500)).mailboxCapacity(100_000).build());
        server.start();
        Collector seen = new Collector();
        server.subscribeAll(m -> {
            if (m.topic().startsWith("seen-")) {
                seen.accept(m);
            }
        });

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        Thread publisher = new Thread(() -> {
            while (!stop.get() || sent.get() < 5000) {
                server.publish("numbers", Integer.toString(sent.getAndIncrement()));
                if (sent.get() % 16 == 0) {
                    LockSupport.parkNanos(200_000); // a steady stream rather than one burst
                }
            }
        });
        publisher.start();

        int versions = 5;
        for (int v = 2; v <= versions; v++) {
            long swapsBefore = server.module("sub").orElseThrow().counters().swaps();
            int before = sent.get();
            replaceAtomically(file, subscriber(v));
            await().atMost(Duration.ofSeconds(20)).until(
                    () -> server.module("sub").orElseThrow().counters().swaps() == swapsBefore + 1);
            await().atMost(Duration.ofSeconds(20)).until(() -> sent.get() > before + 500);
        }
        stop.set(true);
        publisher.join();

        int total = sent.get();
        List<Message> got = seen.awaitCount(total, Duration.ofSeconds(60));
        List<Integer> numbers = new ArrayList<>();
        List<Integer> versionOf = new ArrayList<>();
        for (Message m : got) {
            numbers.add(Integer.parseInt(m.payloadAsString()));
            versionOf.add(Integer.parseInt(m.topic().substring("seen-".length())));
        }
        assertThat(numbers).hasSize(total);
        for (int i = 0; i < total; i++) {
            assertThat(numbers.get(i)).as("message %d", i).isEqualTo(i);
        }
        assertThat(versionOf).isSorted();
        assertThat(versionOf).contains(1, versions);
        ModuleInfo info = server.module("sub").orElseThrow();
        assertThat(info.counters().swaps()).isEqualTo(versions - 1);
        assertThat(info.counters().droppedTotal()).isZero();
        assertThat(info.counters().delivered()).isEqualTo(total);
    }

    @Test
    void initTrapInNewVersionKeepsTheOldOneServing() {
        server = new WasiServer(WasiConfig.defaults());
        server.load("svc", Guests.relay("in", "out"));
        String sha = server.module("svc").orElseThrow().sha256();
        byte[] broken = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") unreachable)
                  (func (export "on_message") (param i32 i32))
                )
                """);

        assertThatThrownBy(() -> server.load("svc", broken))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'svc'")
                .hasMessageContaining("init trapped");

        ModuleInfo info = server.module("svc").orElseThrow();
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);
        assertThat(info.lastLoadFailed()).isTrue();
        assertThat(info.lastError()).contains("init trapped");
        assertThat(info.sha256()).isEqualTo(sha);
        assertThat(info.counters().failedLoads()).isEqualTo(1);
        assertThat(Collector.roundTrip(server, "in", "out", "still here")).isEqualTo("still here");
    }

    /** A guest whose drain() asks to be polled again {@code busyPolls} times, logging each call. */
    private static byte[] drainer(int busyPolls, String in, String out) {
        return Guests.wat(Guests.relayWat(in, out, """
                  (global $polls (mut i32) (i32.const 0))
                  (data (i32.const 900) "drain")
                  (func (export "drain") (result i32)
                    (call $log (i32.const 900) (i32.const 5))
                    (global.set $polls (i32.add (global.get $polls) (i32.const 1)))
                    (if (result i32) (i32.le_s (global.get $polls) (i32.const %d))
                      (then (i32.const 20)) (else (i32.const 0))))
                """.formatted(busyPolls)));
    }

    @Test
    void drainThatReportsWorkDelaysTheCloseUntilItReturnsZero() {
        try (LogCapture logs = new LogCapture()) {
            server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(10)).build());
            server.load("d", drainer(3, "in", "out"));
            long t0 = System.nanoTime();
            server.load("d", Guests.relay("in", "out"));
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            long drainCalls = logs.lines().stream().filter(l -> l.endsWith("[d] drain")).count();
            assertThat(drainCalls).isEqualTo(4); // 3 x "poll again in 20 ms", then 0
            assertThat(tookMs).isGreaterThanOrEqualTo(60); // the three 20 ms waits happened before the close
            assertThat(logs.lines()).noneMatch(l -> l.contains("after the drain timeout"));
        }
    }

    @Test
    void drainThatNeverReachesZeroIsClosedAtTheTimeout() {
        try (LogCapture logs = new LogCapture()) {
            server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(200)).build());
            server.load("d", drainer(Integer.MAX_VALUE, "in", "out"));
            server.load("d", Guests.relay("in", "out2"));
            assertThat(logs.lines()).anyMatch(l -> l.contains("[d] old version still reported work in flight after the drain timeout of 200 ms"));
            ModuleInfo info = server.module("d").orElseThrow();
            assertThat(info.counters().swaps()).isEqualTo(1);
            assertThat(Collector.roundTrip(server, "in", "out2", "new version")).isEqualTo("new version");
        }
    }

    /**
     * Messages queued during a swap for a topic the new version no longer subscribes to are dropped and counted;
     * those for a topic both versions subscribe to reach the new version.
     */
    @Test
    void messagesForTopicsTheNewVersionDroppedAreCountedNotLost() throws Exception {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(600)).build());
        // v1 subscribes to "a" and "b"; its drain() never reaches 0, so the swap stays paused 600 ms.
        byte[] v1 = Guests.wat(Guests.relayWat("a", "out", """
                  (data (i32.const 700) "b")
                  (func $start (call $subscribe (i32.const 700) (i32.const 1) (i32.const 0)))
                  (start $start)
                  (func (export "drain") (result i32) (i32.const 5))
                """));
        server.load("m", v1);
        assertThat(server.module("m").orElseThrow().topics()).containsExactly("a", "b");

        Thread swapper = new Thread(() -> server.load("m", Guests.relay("a", "out")));
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("m").orElseThrow().state() == ModuleState.SWAPPING);
        for (int i = 0; i < 10; i++) {
            server.publish("a", "a" + i);
            server.publish("b", "b" + i);
        }
        Collector out = new Collector();
        server.subscribe("out", out);
        swapper.join();

        assertThat(out.awaitCount(10)).extracting(Message::payloadAsString)
                .containsExactly("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                server.module("m").orElseThrow().counters().dropped().get(DropReason.UNSUBSCRIBED)).isEqualTo(10));
        assertThat(server.module("m").orElseThrow().topics()).containsExactly("a");
    }
}
