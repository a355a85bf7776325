package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A slot's subscriptions on the bus begin with its first version and end with its unload (issue 8, items 1 and 7). */
class SubscriptionLifecycleTest {

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /** Subscribes to "in" in init, then to the topic named by each message's payload. */
    private static final String SUBSCRIBES_PER_MESSAGE = "(module\n" + Guests.IMPORTS + """
              (memory (export "memory") 1)
              (data (i32.const 16) "in")
              (func (export "malloc") (param i32) (result i32) (i32.const 1024))
              (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
              (func (export "on_message") (param $p i32) (param $l i32)
                (call $subscribe (local.get $p) (local.get $l) (i32.const 0))))
            """;

    /** Item 1: a subscribe from on_message while the module is being unloaded must not outlive the module. */
    @Test
    void unloadLeavesNoSubscriptionBehindWhileTheGuestKeepsSubscribing() throws Exception {
        server = new WasiServer(WasiConfig.builder().mailboxCapacity(1_000_000).build());
        byte[] guest = Guests.wat(SUBSCRIBES_PER_MESSAGE);
        for (int round = 0; round < 3; round++) {
            server.load("sub", guest);
            AtomicBoolean stop = new AtomicBoolean();
            String prefix = "t" + round + "-";
            Thread flood = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    server.publish("in", prefix + i);
                }
            });
            flood.start();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> server.topics().size() > 5_000);
                server.unload("sub");
            } finally {
                stop.set(true);
                flood.join();
            }
            assertThat(server.module("sub")).isEmpty();
            assertThat(server.topics()).as("topics left on the bus after unload, round %d", round).isEmpty();
        }
    }

    /**
     * Item 7: a first version subscribing to 20,000 topics in init; a publisher on the first of them while it loads.
     * Every message the slot accepted reaches the module: none is dropped as "closed" on a module that serves.
     */
    @Test
    void firstLoadDeliversEveryMessageAcceptedWhileItSubscribes() throws Exception {
        server = new WasiServer(WasiConfig.builder().mailboxCapacity(1_000_000).build());
        byte[] guest = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "a")
                  (data (i32.const 32) "out")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func $digit (param $at i32) (param $i i32) (param $div i32)
                    (i32.store8 (local.get $at)
                      (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $i) (local.get $div)) (i32.const 10)))))
                  (func (export "init")
                    (local $i i32)
                    (call $subscribe (i32.const 16) (i32.const 1) (i32.const 0))
                    (i32.store8 (i32.const 100) (i32.const 116))
                    (loop $next
                      (call $digit (i32.const 101) (local.get $i) (i32.const 10000))
                      (call $digit (i32.const 102) (local.get $i) (i32.const 1000))
                      (call $digit (i32.const 103) (local.get $i) (i32.const 100))
                      (call $digit (i32.const 104) (local.get $i) (i32.const 10))
                      (call $digit (i32.const 105) (local.get $i) (i32.const 1))
                      (call $subscribe (i32.const 100) (i32.const 6) (i32.const 0))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $next (i32.lt_u (local.get $i) (i32.const 20000)))))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))))
                """);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        Thread publisher = new Thread(() -> {
            while (!stop.get()) {
                server.publish("a", Integer.toString(sent.incrementAndGet()));
            }
        });
        publisher.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() > 1000);
            server.load("many", guest);
            int atLoad = sent.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() > atLoad + 1000);
        } finally {
            stop.set(true);
            publisher.join();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> server.module("many").orElseThrow().mailboxDepth() == 0);
        ModuleInfo info = server.module("many").orElseThrow();
        assertThat(info.topics()).hasSize(20_001);
        assertThat(info.counters().dropped()).as("drops of a module that serves").allSatisfy((r, n) -> assertThat(n).isZero());
        assertThat(info.counters().delivered()).isPositive();
    }
}
