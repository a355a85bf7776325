package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.policy.DeadLetters;
import io.github.tinywasm.wasi.policy.PoisonConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Dead letters and quarantine: what a module fails on is not lost, and a module that fails on everything stops being called. */
class PoisonMessagesTest {

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

    /** Relays "in" to "out", but traps on a payload starting with "!". */
    private static byte[] trapsOnBang() {
        return Guests.onIn("out", """
                (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 33)) (then unreachable))
                (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))""");
    }

    @Test
    void aMessageAModuleTrapsOnBecomesADeadLetter() {
        server = new WasiServer(WasiConfig.defaults());
        server.load("m", trapsOnBang());
        Collector dead = new Collector();
        server.subscribe("wasi.dead-letter", dead);
        Collector out = new Collector();
        server.subscribe("out", out);
        server.publish("in", "fine");
        server.publish("in", "!poison");
        server.publish("in", "fine again");

        Message letter = dead.awaitCount(1).get(0);
        assertThat(letter.payloadAsString()).isEqualTo("!poison");
        assertThat(letter.source()).isEqualTo("m");
        assertThat(letter.header(DeadLetters.MODULE)).isEqualTo("m");
        assertThat(letter.header(DeadLetters.TOPIC)).isEqualTo("in");
        assertThat(letter.header(DeadLetters.ERROR)).contains("module 'm': on_message trapped");
        assertThat(out.awaitCount(2)).extracting(Message::payloadAsString).containsExactly("fine", "fine again");
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").counters().deadLettered() == 1);
        assertThat(info("m").state()).isEqualTo(ModuleState.SERVING);
    }

    @Test
    void aModuleThatFailsOnItsOwnDeadLettersMakesNoLoop() {
        server = new WasiServer(WasiConfig.builder().poison(new PoisonConfig("dead", 2)).build());
        // traps on everything, and subscribes to the dead-letter topic as well
        server.load("loop", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "dead")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init")
                    (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0))
                    (call $subscribe (i32.const 32) (i32.const 4) (i32.const 0)))
                  (func (export "on_message") (param i32 i32) unreachable))
                """));
        Collector dead = new Collector();
        server.subscribe("dead", dead);
        server.publish("in", "one");
        // "one" traps -> dead letter -> the module traps on it (no new letter) -> 2 in a row: quarantined
        await().atMost(Duration.ofSeconds(10)).until(() -> info("loop").state() == ModuleState.QUARANTINED);
        server.publish("in", "two"); // quarantined: forwarded to "dead"; reaching the module again there: dropped
        await().atMost(Duration.ofSeconds(10)).until(() -> info("loop").counters().dropped().get(DropReason.QUARANTINED) == 1);
        assertThat(dead.awaitCount(2)).extracting(Message::payloadAsString).containsExactly("one", "two");
        assertThat(info("loop").counters().traps()).isEqualTo(2);
        assertThat(info("loop").counters().deadLettered()).isEqualTo(2);
        // nothing more is going on: the bus is quiet
        long published = server.publishedCount();
        server.publish("in", "probe");
        await().atMost(Duration.ofSeconds(10)).until(() -> dead.size() == 3);
        await().atMost(Duration.ofSeconds(10)).until(() -> info("loop").counters().dropped().get(DropReason.QUARANTINED) == 2);
        assertThat(server.publishedCount()).isEqualTo(published + 2); // "probe" and its one dead letter
    }

    @Test
    void aQuarantinedModuleGetsNoCallsUntilANewVersionOrAReloadLiftsIt() throws Exception {
        server = new WasiServer(WasiConfig.builder().poison(new PoisonConfig("dead", 3)).build());
        byte[] bang = trapsOnBang();
        server.load("m", bang);
        Collector dead = new Collector();
        server.subscribe("dead", dead);
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", "!1");
        server.publish("in", "ok"); // a success in between: the run starts over
        for (int i = 2; i <= 4; i++) {
            server.publish("in", "!" + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.QUARANTINED);
        server.publish("in", "after quarantine");
        assertThat(dead.awaitCount(5)).extracting(Message::payloadAsString)
                .containsExactly("!1", "!2", "!3", "!4", "after quarantine");
        assertThat(dead.messages().get(4).header(DeadLetters.ERROR)).isEqualTo("module 'm' is quarantined");
        assertThat(info("m").counters().traps()).as("no call after the quarantine").isEqualTo(4);
        assertThat(out.awaitCount(1)).extracting(Message::payloadAsString).containsExactly("ok");
        assertThat(server.http().dispatch("m", GuestHttpRequest.of("GET", "/m/m")).get(30, java.util.concurrent.TimeUnit.SECONDS).status()).isEqualTo(503);

        // a reload of the same bytes lifts it, even without force
        assertThat(server.load("m", bang, false).outcome()).isEqualTo(LoadResult.Outcome.SWAPPED);
        assertThat(info("m").state()).isEqualTo(ModuleState.SERVING);
        server.publish("in", "served again");
        assertThat(out.awaitCount(2)).extracting(Message::payloadAsString).containsExactly("ok", "served again");
        List<Message> letters = dead.messages();
        assertThat(letters).hasSize(5);
    }
}
