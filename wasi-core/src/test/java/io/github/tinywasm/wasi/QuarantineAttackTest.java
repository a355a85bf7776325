package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.policy.PoisonConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Quarantine promises "no more calls into it": that holds for what was already queued when it began, too. */
class QuarantineAttackTest {

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * Answers HTTP ({@code handle}: "served") and subscribes to "in"; on a message it says "started" on "started", then
     * loops until its call is interrupted.
     */
    private static byte[] loopsOnMessagesAnswersHttp() {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "started")
                  (data (i32.const 64) "served\\00")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const 7) (i32.const 32) (i32.const 7))
                    (loop $forever (br $forever)))
                  (func (export "handle") (param i32 i32) (result i32) (i32.const 64)))
                """);
    }

    @Test
    void anHttpRequestQueuedBehindTheFailureThatQuarantinesAModuleDoesNotReachIt() throws Exception {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ofSeconds(5))
                .poison(new PoisonConfig("dead", 1)).build());
        server.load("m", loopsOnMessagesAnswersHttp());
        Collector started = new Collector();
        server.subscribe("started", started);
        server.publish("in", "poison");
        started.awaitCount(1); // the worker is in the looping call: what comes now queues behind it
        CompletableFuture<GuestHttpResponse> queued = server.http().dispatch("m", GuestHttpRequest.of("GET", "/m/x"));
        await().atMost(Duration.ofSeconds(30)).until(() -> server.module("m").orElseThrow().state() == ModuleState.QUARANTINED);
        GuestHttpResponse response = queued.get(30, TimeUnit.SECONDS);
        assertThat(response.status()).as("quarantined: the queued request is refused, not served").isEqualTo(503);
        assertThat(server.module("m").orElseThrow().counters().calls()).as("no call after the quarantine").isEqualTo(1);
    }
}
