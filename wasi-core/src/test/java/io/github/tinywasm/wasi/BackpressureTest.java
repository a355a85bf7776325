package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code overflow=block} is backpressure, never a deadlock: a blocked publisher never holds the worker its consumer
 * needs, and a publisher never waits for itself, directly or through a cycle (issue 8, items 2 and 6).
 */
class BackpressureTest {

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * The setting: 2 workers, capacity 8. The publish timeout is long, so that only a deadlock (nobody can
     * make room, ever) ends in drops, never a busy machine.
     */
    private static WasiConfig.Builder small() {
        return WasiConfig.builder().workerThreads(2).mailboxCapacity(8).overflowPolicy(OverflowPolicy.BLOCK)
                .publishTimeout(Duration.ofSeconds(10));
    }

    /** On "go", publishes {@code count} messages on "sink". */
    private static byte[] burst(int count) {
        return Guests.onIn("sink", """
                    (local $i i32)
                    (loop $next
                      (i32.store (i32.const 2048) (local.get $i))
                      (call $publish (i32.const 32) (i32.const 4) (i32.const 2048) (i32.const 4))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $next (i32.lt_u (local.get $i) (i32.const %d))))
                """.formatted(count));
    }

    /** The repro: 2 workers, capacity 8, two guests publishing 12 each to a fast Java subscriber. */
    @Test
    void blockedGuestsNeverHoldTheWorkerTheirConsumerNeeds() {
        server = new WasiServer(small().build());
        server.load("p1", burst(12));
        server.load("p2", burst(12));
        Collector sink = new Collector();
        Subscription s = server.subscribe("sink", sink);

        server.publish("in", "go");

        assertThat(sink.awaitCount(24, Duration.ofSeconds(30))).hasSize(24);
        assertThat(s.dropped()).isZero();
        assertThat(server.module("p1").orElseThrow().counters().errors()).isZero();
        assertThat(server.module("p2").orElseThrow().counters().errors()).isZero();
    }

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

    private void floodAndAwaitAll(String topic, int messages, int hops, List<String> modules) throws InterruptedException {
        Collector done = new Collector();
        Subscription s = server.subscribe("done", done);
        AtomicBoolean stop = new AtomicBoolean();
        Thread publisher = new Thread(() -> {
            for (int i = 0; i < messages && !stop.get(); i++) {
                server.publish(topic, hops(hops, i));
            }
        });
        publisher.start();
        try {
            assertThat(done.awaitCount(messages, Duration.ofSeconds(90))).hasSize(messages);
        } finally {
            stop.set(true);
            publisher.join();
        }
        assertThat(s.dropped()).isZero();
        for (String m : modules) {
            ModuleInfo info = server.module(m).orElseThrow();
            assertThat(info.counters().dropped()).as("drops of %s", m).allSatisfy((r, n) -> assertThat(n).isZero());
            assertThat(info.counters().errors()).as("errors of %s", m).isZero();
        }
    }

    /**
     * Two healthy modules publishing to each other, both mailboxes full, under a steady stream from outside: each
     * worker ends up blocked in the middle of its batch waiting for the other to take its next one. Nothing drops.
     */
    @Test
    void cycleOfTwoModulesWithFullMailboxesDoesNotDrop() throws Exception {
        server = new WasiServer(small().build());
        server.load("a", cycleNode("a", "b"));
        server.load("b", cycleNode("b", "a"));
        floodAndAwaitAll("a", 5000, 50, List.of("a", "b"));
    }

    /** The shortest cycle: a module publishing to its own topic, its mailbox kept full from outside. */
    @Test
    void moduleRepublishingToItsOwnFullMailboxDoesNotDrop() throws Exception {
        server = new WasiServer(small().build());
        server.load("self", cycleNode("self", "self"));
        floodAndAwaitAll("self", 3000, 9, List.of("self"));
    }

    /**
     * Item 6: the new version's init publishes to the slot's own topic while the paused mailbox is full. The swapping
     * thread neither waits for itself for the publish timeout nor drops the message: it reaches the new version after
     * the messages queued before it.
     */
    @Test
    void initPublishingToItsOwnFullPausedMailboxNeitherBlocksNorDrops() throws Exception {
        server = new WasiServer(small().mailboxCapacity(4).drainTimeout(Duration.ofSeconds(3)).build());
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

        Thread swapper = new Thread(() -> server.load("m", v2));
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("m").orElseThrow().state() == ModuleState.SWAPPING);
        for (int i = 0; i < 4; i++) {
            server.publish("self", "queued-" + i);
        }
        swapper.join();

        assertThat(out.awaitCount(5, Duration.ofSeconds(30))).extracting(Message::payloadAsString)
                .containsExactly("queued-0", "queued-1", "queued-2", "queued-3", "from-init");
        ModuleInfo info = server.module("m").orElseThrow();
        assertThat(info.counters().swaps()).isEqualTo(1);
        assertThat(info.counters().droppedTotal()).isZero();
    }

    private ModuleInfo info(String name) {
        return server.module(name).orElseThrow();
    }

    // ---- Cycles under block with capacity 1, fed from several threads ----------------------------------------

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
}
