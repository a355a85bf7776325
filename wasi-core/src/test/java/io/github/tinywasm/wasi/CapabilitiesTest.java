package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.policy.Capabilities;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Capabilities: a module publishing, subscribing or broadcasting outside its topics traps, is counted, and nobody else notices. */
class CapabilitiesTest {

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

    /** On each message on "in", publishes the payload on the topic the payload names. */
    private static byte[] publishesWherePayloadSays() {
        return Guests.onIn("unused", "(call $publish (local.get $p) (local.get $l) (local.get $p) (local.get $l))");
    }

    @Test
    void aPublishOutsideItsCapabilityTrapsAndIsCountedWhileOthersGoOn() {
        server = new WasiServer(WasiConfig.builder()
                .capabilities("limited", Capabilities.of(List.of("allowed.>"), null, null)).build());
        server.load("limited", publishesWherePayloadSays());
        server.load("free", publishesWherePayloadSays().clone());
        List<Message> seen = new CopyOnWriteArrayList<>();
        server.subscribe("allowed.x", seen::add);
        server.subscribe("forbidden", seen::add);

        server.publish("in", "forbidden");
        server.publish("in", "allowed.x");
        // "free" publishes both; "limited" only the allowed one
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 3);
        assertThat(seen).extracting(m -> m.source() + ":" + m.topic())
                .containsExactlyInAnyOrder("free:forbidden", "free:allowed.x", "limited:allowed.x");

        await().atMost(Duration.ofSeconds(10)).until(() -> info("limited").counters().denied() == 1);
        ModuleCounters limited = info("limited").counters();
        assertThat(limited.errors()).isEqualTo(1);
        assertThat(limited.delivered()).as("the denied message's call failed").isEqualTo(1);
        assertThat(info("limited").lastError()).isEqualTo("module 'limited': publish to topic 'forbidden' is not allowed "
                + "(tinywasm.wasi.modules.limited.publish: [allowed.>])");
        assertThat(info("limited").state()).isEqualTo(ModuleState.SERVING);
        assertThat(info("free").counters().denied()).isZero();
        assertThat(info("free").counters().errors()).isZero();
    }

    @Test
    void aForbiddenSubscribeInInitFailsTheLoadAndTheOldVersionKeepsServing() {
        server = new WasiServer(WasiConfig.builder()
                .capabilities("m", Capabilities.of(null, List.of("in", "jobs.*"), null)).build());
        server.load("m", Guests.relay("in", "out"));
        assertThatThrownBy(() -> server.load("m", Guests.relay("secrets", "out")))
                .isInstanceOf(WasiModuleException.class)
                .hasMessage("module 'm': subscribe to topic 'secrets' is not allowed (tinywasm.wasi.modules.m.subscribe: [in, jobs.*])")
                .satisfies(e -> assertThat(((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.DENIED));
        assertThat(info("m").state()).isEqualTo(ModuleState.SERVING);
        assertThat(info("m").topics()).containsExactly("in");
        assertThat(info("m").counters().denied()).isEqualTo(1);
        assertThat(Collector.roundTrip(server, "in", "out", "still here")).isEqualTo("still here");

        server.load("fresh", Guests.relay("secrets", "out")); // "fresh" has no capabilities configured: all allowed
        assertThat(info("fresh").topics()).containsExactly("secrets");
    }

    @Test
    void aBroadcastOutsideItsCapabilityTraps() {
        List<String> frames = new CopyOnWriteArrayList<>();
        server = new WasiServer(WasiConfig.builder()
                .capabilities("b", Capabilities.of(null, null, List.of("public.*"))).build(),
                (module, topic, payload) -> frames.add(topic));
        server.load("b", Guests.onIn("x", "(call $ws_broadcast (local.get $p) (local.get $l) (local.get $p) (local.get $l))"));
        server.publish("in", "private.feed");
        server.publish("in", "public.feed");
        await().atMost(Duration.ofSeconds(10)).until(() -> frames.size() == 1 && info("b").counters().denied() == 1);
        assertThat(frames).containsExactly("public.feed");
        assertThat(info("b").lastError()).contains("broadcast to topic 'private.feed' is not allowed");
    }
}
