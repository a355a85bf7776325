package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine attacked again after issue 8's fixes: what each attack must leave intact. */
class EngineAttackTest {

    private static final Duration RETURNS = Duration.ofSeconds(30);
    private static final int SIXTEEN_MIB = 16 << 20;

    private WasiServer server;

    @AfterEach
    void close() throws InterruptedException {
        if (server != null) {
            Thread closer = new Thread(server::close, "test-close");
            closer.setDaemon(true);
            closer.start();
            closer.join(RETURNS.toMillis());
        }
    }

    /** Subscribes to {@code in}; its malloc grows memory as needed; republishes each payload on {@code out}. */
    private static byte[] growingRelay(String in, String out) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "%s")
                  (data (i32.const 512) "%s")
                  (func (export "malloc") (param $n i32) (result i32)
                    (local $need i32)
                    ;; one buffer from 64 KiB up, grown to fit: calls never overlap, and there is no free
                    (local.set $need (i32.sub (i32.shr_u (i32.add (local.get $n) (i32.const 131071)) (i32.const 16))
                                              (memory.size)))
                    (if (i32.gt_s (local.get $need) (i32.const 0))
                      (then (if (i32.eq (memory.grow (local.get $need)) (i32.const -1)) (then (return (i32.const 0))))))
                    (i32.const 65536))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const %d) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l))))
                """.formatted(in, out, in.length(), out.length()));
    }

    @Test
    void sixteenMibPayloadsCrossJavaGuestsAndBackByteForByte() {
        server = new WasiServer(WasiConfig.defaults());
        server.load("first", growingRelay("in", "middle"));
        server.load("second", growingRelay("middle", "out"));
        server.load("sink", Guests.built("sink")); // C, wasi-libc's malloc/free
        Collector out = new Collector();
        server.subscribe("out", out);

        byte[] payload = new byte[SIXTEEN_MIB];
        new Random(16).nextBytes(payload);
        for (int i = 0; i < 3; i++) {
            server.publish("in", payload);
            server.publish("bench", payload);
        }

        List<Message> got = out.awaitCount(3, RETURNS);
        assertThat(got).allSatisfy(m -> assertThat(m.payload()).isEqualTo(payload));
        await().atMost(RETURNS).until(() -> server.module("sink").orElseThrow().counters().delivered() == 3);
        for (String m : List.of("first", "second", "sink")) {
            ModuleInfo info = server.module(m).orElseThrow();
            assertThat(info.counters().errors()).as("errors of %s", m).isZero();
            assertThat(info.counters().droppedTotal()).as("drops of %s", m).isZero();
        }
    }

    @Test
    void sixteenMibPayloadPastTheMemoryLimitIsOneCountedDropAndTheModuleGoesOn() {
        server = new WasiServer(WasiConfig.builder().maxMemoryBytes(8L << 20).build());
        server.load("small", growingRelay("in", "out"));
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", new byte[SIXTEEN_MIB]);
        server.publish("in", "fits");

        assertThat(out.awaitCount(1).get(0).payloadAsString()).isEqualTo("fits");
        ModuleInfo info = server.module("small").orElseThrow();
        assertThat(info.counters().dropped().get(DropReason.NO_ALLOCATOR)).isEqualTo(1);
        assertThat(info.lastError()).isEqualTo("module 'small': malloc(16777216) returned 0, not a usable buffer");
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);
    }

    /** A guest that subscribes to many topics per message, unloaded and reloaded over and over under a flood. */
    @Test
    void guestSubscribingInALoopWhileItIsUnloadedAndSwappedLeavesNothingOnTheBus() throws Exception {
        server = new WasiServer(WasiConfig.builder().mailboxCapacity(2_000).build());
        // on_message: subscribes to the payload's topic and 31 more, made by changing its first byte
        byte[] guest = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (local $i i32)
                    (loop $next
                      (i32.store8 (local.get $p) (i32.add (i32.const 65) (local.get $i)))
                      (call $subscribe (local.get $p) (local.get $l) (i32.const 0))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $next (i32.lt_u (local.get $i) (i32.const 32))))))
                """);
        AtomicBoolean stop = new AtomicBoolean();
        Thread flood = new Thread(() -> {
            for (long i = 0; !stop.get(); i++) {
                server.publish("in", "x-" + i);
            }
        });
        flood.start();
        try {
            for (int round = 0; round < 6; round++) {
                server.load("sub", guest);
                server.load("sub", guest); // a swap mid-flood: the old version's topics go, the new one's come
                int r = round;
                await().atMost(RETURNS).until(() -> server.topics().size() > 500 + r);
                server.unload("sub");
                assertThat(server.topics()).as("round %d", round).isEmpty();
            }
        } finally {
            stop.set(true);
            flood.join();
        }
    }

    /** Swaps from several threads while close() runs: close returns in bounds, and nothing is left loaded. */
    @Test
    void swapsDuringCloseEndWithNothingLoaded() throws Exception {
        for (int round = 0; round < 5; round++) {
            WasiServer s = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(300)).build());
            byte[] v1 = Guests.relay("in", "out");
            byte[] v2 = Guests.relay("in", "out2");
            s.load("m", v1);
            AtomicInteger swaps = new AtomicInteger();
            List<Throwable> unexpected = new CopyOnWriteArrayList<>();
            List<Thread> swappers = new java.util.ArrayList<>();
            for (int t = 0; t < 3; t++) {
                Thread swapper = new Thread(() -> {
                    for (int i = 0; ; i++) {
                        try {
                            s.load("m", i % 2 == 0 ? v2 : v1);
                            swaps.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            return;
                        } catch (Throwable e) {
                            unexpected.add(e);
                            return;
                        }
                    }
                });
                swapper.start();
                swappers.add(swapper);
            }
            Thread publisher = new Thread(() -> {
                try {
                    while (true) {
                        s.publish("in", "during close");
                    }
                } catch (IllegalStateException closed) {
                    // expected once close() has begun
                }
            });
            publisher.start();
            await().atMost(RETURNS).until(() -> swaps.get() >= 10);
            assertTimeoutPreemptively(RETURNS, s::close);
            for (Thread t : swappers) {
                t.join(RETURNS.toMillis());
                assertThat(t.isAlive()).isFalse();
            }
            publisher.join(RETURNS.toMillis());
            assertThat(publisher.isAlive()).isFalse();
            assertThat(unexpected).isEmpty();
            assertThat(s.modules()).isEmpty();
            assertThat(s.topics()).isEmpty();
        }
    }

    /**
     * Publishers hammering a Java subscriber from several threads while close() runs: every publish either throws
     * or is accepted, and every accepted message is delivered or counted as dropped.
     */
    @Test
    void everyMessageAcceptedAroundCloseIsDeliveredOrCounted() throws Exception {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(200)).mailboxCapacity(50_000)
                .overflowPolicy(OverflowPolicy.DROP).build());
        AtomicLong received = new AtomicLong();
        Subscription s = server.subscribe("t", m -> {
            received.incrementAndGet();
            java.util.concurrent.locks.LockSupport.parkNanos(2_000); // slower than the publishers
        });
        AtomicLong accepted = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        List<Thread> publishers = new java.util.ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread p = new Thread(() -> {
                while (true) {
                    try {
                        server.publish("t", "x");
                        accepted.incrementAndGet();
                    } catch (IllegalStateException closed) {
                        if (refused.incrementAndGet() >= 1000) {
                            return; // a thousand refusals each: thousands of publishes after close
                        }
                    }
                }
            });
            p.start();
            publishers.add(p);
        }
        await().atMost(RETURNS).until(() -> accepted.get() > 20_000);
        assertTimeoutPreemptively(RETURNS, server::close);
        for (Thread p : publishers) {
            p.join(RETURNS.toMillis());
        }
        assertThat(refused.get()).isGreaterThanOrEqualTo(1000);
        assertThat(received.get() + s.dropped()).isEqualTo(accepted.get());
        assertThatThrownBy(() -> server.publish("t", "late")).isInstanceOf(IllegalStateException.class);
    }
}
