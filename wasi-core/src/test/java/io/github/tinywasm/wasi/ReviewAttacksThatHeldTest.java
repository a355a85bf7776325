package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review (review1): attacks on the engine that HELD (these tests pass), kept as regression tests. Cycles
 * of three and four modules and two cycles sharing a node under overflow=block with mailbox capacity 1, fed from
 * several application threads; a guest calling proc_exit from on_message; swaps (API and atomic rename), unloads,
 * reloads and restarts racing a flood with a guest subscribing from on_topic_message.
 */
class ReviewAttacksThatHeldTest {

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private ModuleInfo info(String name) {
        return server.module(name).orElseThrow();
    }

    // ---- Experiments on cycles under block with capacity 1 -------------------------------------------------------

    /** A node of a cycle: a message with hops left goes to {@code next}, one with none left to "done". */
    private static byte[] cycleNode(String in, String next) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "%s")
                  (data (i32.const 24) "%s")
                  (data (i32.const 32) "done")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const %d) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (if (i32.eqz (i32.load (local.get $p)))
                      (then (call $publish (i32.const 32) (i32.const 4) (local.get $p) (local.get $l)))
                      (else
                        (i32.store (local.get $p) (i32.sub (i32.load (local.get $p)) (i32.const 1)))
                        (call $publish (i32.const 24) (i32.const %d) (local.get $p) (local.get $l))))))
                """.formatted(in, next, in.length(), next.length()));
    }

    private static byte[] hops(int hops, int id) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(hops).putInt(id).array();
    }

    private void floodAndAwaitAll(String topic, int messages, int hops, List<String> modules, int publishers)
            throws InterruptedException {
        floodAndAwaitAll(topic, messages, hops, modules, publishers, messages);
    }

    private void floodAndAwaitAll(String topic, int messages, int hops, List<String> modules, int publishers,
            int expected) throws InterruptedException {
        Collector done = new Collector();
        Subscription s = server.subscribe("done", done);
        AtomicBoolean stop = new AtomicBoolean();
        Thread[] threads = new Thread[publishers];
        for (int p = 0; p < publishers; p++) {
            int first = p;
            threads[p] = new Thread(() -> {
                for (int i = first; i < messages && !stop.get(); i += publishers) {
                    server.publish(topic, hops(hops, i));
                }
            });
            threads[p].start();
        }
        try {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> done.size() >= expected
                    || modules.stream().anyMatch(m -> info(m).counters().droppedTotal() > 0));
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
        for (String m : modules) {
            ModuleInfo info = server.module(m).orElseThrow();
            assertThat(info.counters().dropped()).as("drops of %s", m).allSatisfy((r, n) -> assertThat(n).isZero());
            assertThat(info.counters().errors()).as("errors of %s", m).isZero();
        }
        assertThat(s.dropped()).isZero();
        assertThat(done.size()).isEqualTo(expected);
    }

    /**
     * Promise (operations.md "Backpressure never deadlocks"): "a cycle of healthy modules (each message handled leads
     * to at most one message on) fed by the application never drops".
     */
    @Test
    void cycleOfThreeModulesWithCapacityOneDoesNotDrop() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(1)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(10)).build());
        server.load("a", cycleNode("a", "b"));
        server.load("b", cycleNode("b", "c"));
        server.load("c", cycleNode("c", "a"));
        floodAndAwaitAll("a", 3000, 60, List.of("a", "b", "c"), 1);
    }

    /** As above, with several application threads feeding the cycle at two of its nodes. */
    @Test
    void cycleOfThreeModulesWithCapacityOneFedAtTwoNodesDoesNotDrop() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(1)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(10)).build());
        server.load("a", cycleNode("a", "b"));
        server.load("b", cycleNode("b", "c"));
        server.load("c", cycleNode("c", "a"));
        Thread other = new Thread(() -> {
            for (int i = 0; i < 1500; i++) {
                server.publish("b", hops(60, 100_000 + i));
            }
        });
        other.start();
        try {
            floodAndAwaitAll("a", 1500, 60, List.of("a", "b", "c"), 2, 3000);
        } finally {
            other.join();
        }
    }

    /** A router: a message with hops left goes to "b" when its id is odd, to "c" when even. */
    private static byte[] router() {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "a")
                  (data (i32.const 24) "b")
                  (data (i32.const 28) "c")
                  (data (i32.const 32) "done")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 1) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (if (i32.eqz (i32.load (local.get $p)))
                      (then (call $publish (i32.const 32) (i32.const 4) (local.get $p) (local.get $l)))
                      (else
                        (i32.store (local.get $p) (i32.sub (i32.load (local.get $p)) (i32.const 1)))
                        (call $publish (select (i32.const 24) (i32.const 28)
                                         (i32.and (i32.load offset=4 (local.get $p)) (i32.const 1)))
                                       (i32.const 1) (local.get $p) (local.get $l))))))
                """);
    }

    /** Two cycles sharing a node (a->b->a, a->c->a), no amplification, fed at every node. */
    @Test
    void twoCyclesSharingANodeWithCapacityOneDoNotDrop() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(1)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(10)).build());
        server.load("a", router());
        server.load("b", cycleNode("b", "a"));
        server.load("c", cycleNode("c", "a"));
        Thread tb = new Thread(() -> {
            for (int i = 0; i < 1000; i++) {
                server.publish("b", hops(40, 100_000 + i));
            }
        });
        Thread tc = new Thread(() -> {
            for (int i = 0; i < 1000; i++) {
                server.publish("c", hops(40, 200_000 + i));
            }
        });
        tb.start();
        tc.start();
        try {
            floodAndAwaitAll("a", 1000, 40, List.of("a", "b", "c"), 2, 3000);
        } finally {
            tb.join();
            tc.join();
        }
    }

    /** A cycle of four, capacity 1, fed at every node by its own thread. */
    @Test
    void cycleOfFourWithCapacityOneFedEverywhereDoesNotDrop() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(1)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(10)).build());
        server.load("a", cycleNode("a", "b"));
        server.load("b", cycleNode("b", "c"));
        server.load("c", cycleNode("c", "d"));
        server.load("d", cycleNode("d", "a"));
        List<Thread> feeders = new java.util.ArrayList<>();
        for (String t : List.of("b", "c", "d")) {
            Thread f = new Thread(() -> {
                for (int i = 0; i < 800; i++) {
                    server.publish(t, hops(100, t.charAt(0) * 10_000 + i));
                }
            });
            f.start();
            feeders.add(f);
        }
        try {
            floodAndAwaitAll("a", 800, 100, List.of("a", "b", "c", "d"), 1, 3200);
        } finally {
            for (Thread f : feeders) {
                f.join();
            }
        }
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

    // ---- Experiment: proc_exit from on_message -------------------------------------------------------------------

    /** A guest calling proc_exit from on_message fails that message only; the next one is delivered. */
    @Test
    void procExitFromOnMessageFailsOneMessageOnly() {
        server = new WasiServer(WasiConfig.builder().build());
        server.load("exiter", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "out")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 120))
                      (then (call $exit (i32.const 0))))
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))))
                """));
        Collector out = new Collector();
        server.subscribe("out", out);
        server.publish("in", "x-exit");
        server.publish("in", "after");
        assertThat(out.awaitCount(1)).extracting(Message::payloadAsString).containsExactly("after");
        assertThat(info("exiter").counters().errors()).isEqualTo(1);
        assertThat(info("exiter").state()).isEqualTo(ModuleState.SERVING);
    }
}
