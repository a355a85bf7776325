package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.HttpConfig;
import io.github.tinywasm.wasi.http.HttpGuests;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-batch counters, counted by exception (ModuleSlot.batchDone: calls = items - not called, delivered = calls -
 * failed), attacked with every kind of item in one batch: healthy messages, a timeout, traps, drops (unsubscribed),
 * subscription changes inside on_message, HTTP requests on the slot's own lane and on a pool's extra lane. Promise
 * (ModuleCounters javadoc; configuration.md: wasi.guest.calls "messages and HTTP requests that reached the guest (drops
 * are not calls)", wasi.messages.delivered "messages handed to the module without error").
 */
class DeliveryCountersTest {

    /**
     * Subscribes to "in" and "ctl". on_message by the payload's first byte: 'l' spins (until the call timeout), 't'
     * traps, 'u' unsubscribes from "in", 'r' subscribes to "in" again, anything else returns. handle (compatible HTTP)
     * answers "ok".
     */
    private static final byte[] GUEST = Guests.wat("""
            (module
              (import "env" "subscribe" (func $subscribe (param i32 i32 i32)))
              (import "env" "unsubscribe" (func $unsubscribe (param i32 i32)))
              (memory (export "memory") 2)
              (data (i32.const 16) "in")
              (data (i32.const 32) "ctl")
              (data (i32.const 1024) "ok\\00")
              (func (export "malloc") (param i32) (result i32) (i32.const 4096))
              (func (export "init")
                (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0))
                (call $subscribe (i32.const 32) (i32.const 3) (i32.const 0)))
              (func (export "on_message") (param $p i32) (param $l i32)
                (local $b i32)
                (local.set $b (i32.load8_u (local.get $p)))
                (if (i32.eq (local.get $b) (i32.const 108)) (then (loop $spin (br $spin))))
                (if (i32.eq (local.get $b) (i32.const 116)) (then unreachable))
                (if (i32.eq (local.get $b) (i32.const 117)) (then (call $unsubscribe (i32.const 16) (i32.const 2))))
                (if (i32.eq (local.get $b) (i32.const 114))
                  (then (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))))
              (func (export "handle") (param i32 i32) (result i32) (i32.const 1024)))
            """);

    private @Nullable WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private ModuleCounters counters() {
        return server.module("m").orElseThrow().counters();
    }

    @Test
    void countersAddUpWithEveryKindOfItemInABatchOnTheSlotsOwnLane() throws Exception {
        everyKindOfItem(1);
    }

    @Test
    void countersAddUpWithEveryKindOfItemInABatchWithAPoolOfHttpLanes() throws Exception {
        everyKindOfItem(3);
    }

    private void everyKindOfItem(int poolSize) throws Exception {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ofSeconds(3)).workerThreads(4)
                .http(HttpConfig.DEFAULTS.withPoolSize("m", poolSize)).build());
        server.load("m", GUEST);
        // the first message holds the worker until the call timeout: everything after it queues, in this order
        server.publish("in", "l");
        List<CompletableFuture<GuestHttpResponse>> requests = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            server.publish("in", "o" + i);
        }
        requests.add(server.http().dispatch("m", HttpGuests.get("/m/m/1")));
        server.publish("in", "t1");
        server.publish("in", "t2");
        server.publish("in", "u"); // delivered; unsubscribes from "in"
        for (int i = 0; i < 3; i++) {
            // queued while subscribed, handled after the unsubscribe: dropped. Topics equal to "in" but not the same
            // String too (the slot keeps its last subscription answer by the topic's identity)
            server.publish(i == 1 ? new String("in") : "in", "dropped" + i);
        }
        requests.add(server.http().dispatch("m", HttpGuests.get("/m/m/2")));
        server.publish("ctl", "r"); // delivered; subscribes to "in" again
        server.publish(new String("in"), "o5");
        server.publish("in", "o6");
        for (CompletableFuture<GuestHttpResponse> r : requests) {
            assertThat(r.get(60, TimeUnit.SECONDS).bodyAsString()).isEqualTo("ok");
        }
        // the counts of a batch are added once it is done: wait for the last message's
        await().atMost(Duration.ofSeconds(60)).until(() -> counters().delivered() >= 9);

        ModuleCounters c = counters();
        assertThat(c.dropped().get(DropReason.UNSUBSCRIBED)).as("dropped as unsubscribed").isEqualTo(3);
        assertThat(c.timeouts()).isEqualTo(1);
        assertThat(c.traps()).isEqualTo(2);
        assertThat(c.errors()).isEqualTo(3);
        // messages that reached on_message: l, o0-o4, t1, t2, u, r, o5, o6 (12); and the two requests
        assertThat(c.calls()).as("guest calls").isEqualTo(14);
        // handled without error: o0-o4, u, r, o5, o6
        assertThat(c.delivered()).as("delivered").isEqualTo(9);
    }
    /**
     * A message that never reaches the guest because the host failed before the call (here an interceptor that breaks
     * its contract and throws; the mailbox logs it and goes on) is neither a guest call nor delivered.
     */
    @Test
    void aMessageTheHostFailedToHandBeforeTheCallIsNeitherACallNorDelivered() {
        BusInterceptor throwing = new BusInterceptor() {
            @Override
            public Scope beforeProcess(@Nullable String module, Message message) {
                if (module != null && message.payloadAsString().equals("boom")) {
                    throw new IllegalStateException("interceptor bug");
                }
                return Scope.NONE;
            }
        };
        server = new WasiServer(WasiConfig.defaults(), WebSocketBroadcaster.NONE, throwing);
        server.load("m", GUEST);
        server.publish("in", "o1");
        server.publish("in", "boom");
        server.publish("in", "o2");
        server.publish("ctl", "o3");
        await().atMost(Duration.ofSeconds(30)).until(() -> counters().calls() >= 3);
        await().atMost(Duration.ofSeconds(30)).until(() -> server.module("m").orElseThrow().mailboxDepth() == 0);
        ModuleCounters c = counters();
        assertThat(c.delivered()).as("delivered: the guest saw o1, o2, o3 only").isEqualTo(3);
        assertThat(c.calls()).as("guest calls").isEqualTo(3);
    }
}
