package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The host's side of the memory contract: {@code malloc} before a delivery, {@code free} after it (issue 8, items 9-10). */
class GuestBuffersTest {

    private WasiServer server;

    @BeforeEach
    void start() {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ofMillis(300)).build());
    }

    @AfterEach
    void close() {
        server.close();
    }

    private static String module(String body) {
        return "(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "out")
                  (data (i32.const 48) "freed")
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                """ + body + ")\n";
    }

    /** Item 9: C allows malloc(0) to return 0, and TinyGo's exported malloc does; the empty message still arrives. */
    @Test
    void emptyPayloadReachesAGuestWhoseMallocOfZeroReturnsNull() {
        server.load("tinygo", Guests.wat(module("""
                  (func (export "malloc") (param $n i32) (result i32)
                    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0)) (else (i32.const 1024))))
                  (func (export "free") (param i32))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (i32.store (i32.const 2048) (local.get $p))
                    (i32.store (i32.const 2052) (local.get $l))
                    (call $publish (i32.const 32) (i32.const 3) (i32.const 2048) (i32.const 8)))
                """)));
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", new byte[0]);
        server.publish("in", "x");

        assertThat(out.awaitCount(2)).extracting(m -> java.nio.ByteBuffer.wrap(m.payload())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong()).containsExactly(0L, 1024L | (1L << 32)); // (0, 0), then (1024, 1)
        ModuleInfo info = server.module("tinygo").orElseThrow();
        assertThat(info.counters().delivered()).isEqualTo(2);
        assertThat(info.counters().droppedTotal()).isZero();
        assertThat(info.lastError()).isNull();
    }

    /** Item 10: on_message returned, so the message was delivered; a free() that times out afterwards is its own error. */
    @Test
    void freeThatTimesOutAfterADeliveryLeavesTheMessageDelivered() {
        server.load("leaky", Guests.wat(module("""
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "free") (param i32) (loop $forever (br $forever)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l)))
                """)));
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", "handled");

        assertThat(out.awaitCount(1).get(0).payloadAsString()).isEqualTo("handled");
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("leaky").orElseThrow().counters().timeouts() == 1);
        // delivered is counted after the batch, just after the free that timed out
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("leaky").orElseThrow().counters().delivered() == 1);
        ModuleInfo info = server.module("leaky").orElseThrow();
        assertThat(info.counters().errors()).isEqualTo(1);
        assertThat(info.lastError()).isEqualTo("module 'leaky': free was interrupted after exceeding the call timeout");
    }

    /** Item 10: on the on_topic_message path, a free(ptr) that traps does not skip free(topic_ptr). */
    @Test
    void failingFreeOfThePayloadStillFreesTheTopic() {
        server.load("topical", Guests.wat(module("""
                  (global $next (mut i32) (i32.const 1024))
                  ;; hands out 1024 and 8192 in turn: the payload's buffer first, then the topic's
                  (func (export "malloc") (param i32) (result i32)
                    (local $p i32)
                    (local.set $p (global.get $next))
                    (global.set $next (select (i32.const 8192) (i32.const 1024) (i32.eq (local.get $p) (i32.const 1024))))
                    (local.get $p))
                  (func (export "free") (param $p i32)
                    (if (i32.eq (local.get $p) (i32.const 1024)) (then unreachable))
                    (i32.store (i32.const 2048) (local.get $p))
                    (call $publish (i32.const 48) (i32.const 5) (i32.const 2048) (i32.const 4)))
                  (func (export "on_topic_message") (param $t i32) (param $tl i32) (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l)))
                """)));
        Collector out = new Collector();
        Collector freed = new Collector();
        server.subscribe("out", out);
        server.subscribe("freed", freed);

        server.publish("in", "payload");

        assertThat(out.awaitCount(1).get(0).payloadAsString()).isEqualTo("payload");
        assertThat(freed.awaitCount(1)).extracting(m -> java.nio.ByteBuffer.wrap(m.payload())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt()).containsExactly(8192);
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("topical").orElseThrow().counters().traps() == 1);
        ModuleInfo info = server.module("topical").orElseThrow();
        assertThat(info.counters().delivered()).isEqualTo(1);
        assertThat(info.lastError()).startsWith("module 'topical': free trapped");
    }
}
