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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

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

    private ModuleInfo info(String name) {
        return server.module(name).orElseThrow();
    }

    /**
     * Promise (architecture.md step 3, configuration.md mailbox.overflow): "The new version's init may publish to the
     * slot's own topics meanwhile: that never waits for the paused mailbox (the swapping thread counts as its
     * worker)". Was broken (review1, fixed) when the swap runs on a wasi-worker, i.e. from a Java subscriber or an @EventListener (a
     * "deploy" message handled by the application): the init's publish waits the whole publish-timeout for a mailbox
     * its own thread paused, then drops the message.
     * Cause (fixed): Mailbox.pause (Mailbox.java:340-344) makes the pausing thread this mailbox's worker only
     * `if (SERVING.get() == null)`; a pool thread already serves its own (the Java subscription's) mailbox, so
     * Mailbox.offer (Mailbox.java:127) sees self != this and waits. Fix: track the pauser by thread in offer (pauser ==
     * Thread.currentThread() means self = this), or stack SERVING in pause/resume.
     */
    @Test
    void swapRunFromAJavaSubscriberDoesNotWaitForItsOwnPausedMailbox() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(4)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(2))
                .drainTimeout(Duration.ofSeconds(3)).build());
        // v1 subscribes to "self" and never finishes draining, which keeps the swap paused for the drain timeout.
        server.load("m", Guests.wat(Guests.relayWat("self", "out", """
                  (func (export "drain") (result i32) (i32.const 5))
                """)));
        byte[] v2 = Guests.wat(Guests.relayWat("self", "out", """
                  (data (i32.const 700) "from-init")
                  (func $announce (call $publish (i32.const 16) (i32.const 4) (i32.const 700) (i32.const 9)))
                """).replace("(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 4) (i32.const 0)))",
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 4) (i32.const 0)) (call $announce))"));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean swapped = new AtomicBoolean();
        server.subscribe("deploy", msg -> { // the application deploys on a message: the swap runs on a wasi-worker
            server.load("m", v2);
            swapped.set(true);
        });

        server.publish("deploy", "m");
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        for (int i = 0; i < 4; i++) {
            server.publish("self", "queued-" + i); // fills the paused mailbox (capacity 4)
        }
        await().atMost(Duration.ofSeconds(30)).untilTrue(swapped);

        assertThat(info("m").counters().dropped().get(DropReason.MAILBOX_FULL)).as("init's publish dropped").isZero();
        assertThat(out.awaitCount(5, Duration.ofSeconds(20))).extracting(Message::payloadAsString)
                .containsExactly("queued-0", "queued-1", "queued-2", "queued-3", "from-init");
        assertThat(info("m").counters().droppedTotal()).isZero();
    }

    /**
     * Promise (ModuleCounters javadoc: calls = "guest calls made to handle messages"; configuration.md
     * wasi.guest.calls: "Messages handled by the guest and the time spent in it"). Was broken (review1, fixed): messages dropped without
     * any guest call (queued across a swap for a topic the new version does not subscribe to) count as guest calls,
     * so wasi.guest.calls' count and mean time are wrong after every swap that drops.
     * Cause (fixed): Mailbox.run reports every message of the batch to batchDone (Mailbox.java:295) and
     * ModuleSlot.batchDone adds them all to calls (ModuleSlot.java:352-353), including those ModuleSlot.handle
     * dropped as unsubscribed or closed (ModuleSlot.java:317, 321).
     */
    @Test
    void messagesDroppedWithoutAGuestCallAreNotGuestCalls() throws Exception {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(2)).build());
        server.load("m", Guests.wat(Guests.relayWat("a", "out", """
                  (func (export "drain") (result i32) (i32.const 5))
                """))); // v1: topic "a", keeps the swap paused for the drain timeout
        Thread swapper = new Thread(() -> server.load("m", Guests.relay("b", "out"))); // v2: topic "b" only
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        for (int i = 0; i < 3; i++) {
            server.publish("a", "queued-" + i);
        }
        swapper.join();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").counters().dropped().get(DropReason.UNSUBSCRIBED) == 3);

        ModuleCounters c = info("m").counters();
        assertThat(c.delivered()).isZero();
        assertThat(c.calls()).as("guest calls made for messages that never reached the guest").isZero();
    }

    // ---- Chaos: swaps (API and folder), unloads, reloads and restarts under a flood -------------------------------

    /**
     * Relays "in" to "out" and subscribes to "x" + a letter taken from each payload; version {@code tag}. Its malloc
     * hands out two buffers in turn (the payload and the topic of on_topic_message).
     */
    private static byte[] chaosGuest(String tag) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 2)
                  (global $turn (mut i32) (i32.const 0))
                  (data (i32.const 16) "in")
                  (data (i32.const 512) "out")
                  (data (i32.const 600) "%s")
                  (data (i32.const 900) "x")
                  (func (export "malloc") (param i32) (result i32)
                    (global.set $turn (i32.xor (global.get $turn) (i32.const 1)))
                    (select (i32.const 4096) (i32.const 40960) (global.get $turn)))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_topic_message") (param $tp i32) (param $tl i32) (param $p i32) (param $l i32)
                    (if (i32.eqz (i32.load8_u (local.get $tp))) (then (unreachable)))
                    (i32.store8 (i32.const 901)
                      (i32.add (i32.const 97) (i32.and (i32.load8_u offset=3 (local.get $p)) (i32.const 15))))
                    (call $subscribe (i32.const 900) (i32.const 2) (i32.const 0))
                    (call $publish (i32.const 512) (i32.const 3) (local.get $p) (local.get $l))))
                """.formatted(tag));
    }

    /**
     * Promise (architecture.md, operations.md): every accepted message is delivered once, in publish order, or
     * counted; subscriptions a guest makes never outlive its module. Attack: one publisher, and at the same time API
     * swaps, swaps by atomic rename in the watched folder, unloads followed by reloads, and restarts of the server.
     * Whatever arrives on "out" must be strictly increasing (no duplicate, no reordering), and once the module is
     * unloaded no "x?" topic it subscribed to may be left on the bus.
     */
    @Test
    void chaosOfSwapsUnloadsAndRestartsNeverDuplicatesOrReorders() throws Exception {
        byte[] v1 = chaosGuest("v1");
        byte[] v2 = chaosGuest("v2");
        Files.write(dir.resolve("m.wasm"), v1);
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watchQuietPeriod(Duration.ofMillis(50))
                .watchPollInterval(Duration.ofMillis(200)).drainTimeout(Duration.ofSeconds(2)).build());
        server.start();
        java.util.concurrent.ConcurrentLinkedQueue<Integer> out = new java.util.concurrent.ConcurrentLinkedQueue<>();
        server.subscribe("out", m -> out.add(ByteBuffer.wrap(m.payload()).getInt()));
        AtomicBoolean stop = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
        Thread publisher = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                server.publish("in", ByteBuffer.allocate(4).putInt(i).array());
                published.set(i + 1);
            }
        });
        publisher.start();
        java.util.Random random = new java.util.Random(42);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int round = 0;
        try {
            while (System.nanoTime() - end < 0) {
                byte[] next = round++ % 2 == 0 ? v2 : v1;
                switch (random.nextInt(5)) {
                    case 0 -> server.load("m", next);
                    case 1 -> {
                        Path tmp = dir.resolve(".m.wasm.tmp");
                        Files.write(tmp, next);
                        Files.move(tmp, dir.resolve("m.wasm"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    case 2 -> {
                        server.unload("m");
                        server.load("m", dir.resolve("m.wasm"));
                    }
                    case 3 -> server.restart();
                    default -> server.reload("m");
                }
                int seen = out.size();
                await().atMost(Duration.ofSeconds(20)).until(() -> out.size() > seen); // the module serves again
            }
        } finally {
            stop.set(true);
            publisher.join();
        }
        List<Integer> received = new java.util.ArrayList<>(out);
        for (int i = 1; i < received.size(); i++) {
            assertThat(received.get(i)).as("message after %d at position %d", received.get(i - 1), i)
                    .isGreaterThan(received.get(i - 1));
        }
        assertThat(received).isNotEmpty();
        server.unload("m");
        assertThat(server.topics()).as("topics left on the bus after the module was unloaded").containsExactly("out");
    }
}
