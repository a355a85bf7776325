package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.deploy.ModuleFiles;
import io.github.tinywasm.wasi.deploy.ProbationConfig;
import io.github.tinywasm.wasi.policy.Capabilities;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A rollback is the way away from a bad version: it must not depend on the bad version's cooperation. A version that
 * is bad enough to be rolled back may well be bad in its {@code state_save} too.
 */
class RollbackAttackTest {

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * Relays "in" to {@code out}, exporting the state hand-off; {@code onMessageTail} runs after the publish (e.g. a
     * trap) and {@code saveBody} is the body of {@code state_save}.
     */
    private static byte[] stateful(String out, String onMessageTail, String saveBody) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "%s")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const %d) (local.get $p) (local.get $l)) %s)
                  (func (export "state_save") (result i64) %s)
                  (func (export "state_load") (param i32 i32))
                )
                """.formatted(out, out.length(), onMessageTail, saveBody));
    }

    private static final String GOOD_SAVE = "(i64.const 0)";

    @Test
    void probationRollsBackAVersionWhoseStateSaveTrapsToo() {
        server = new WasiServer(WasiConfig.builder().probation(new ProbationConfig(Duration.ofMinutes(5), 2)).build());
        byte[] good = stateful("good", "", GOOD_SAVE);
        byte[] bad = stateful("bad", "unreachable", "unreachable");
        server.load("m", good);
        server.load("m", bad);
        Collector out = new Collector();
        server.subscribe("good", out);
        server.publish("in", "1");
        server.publish("in", "2");
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("m").orElseThrow().counters().traps() >= 2);
        // the bad version trapped twice on probation: the slot goes back to the good version, bad state_save or not
        await().atMost(Duration.ofSeconds(20))
                .until(() -> ModuleFiles.sha256(good).equals(server.module("m").orElseThrow().sha256()));
        assertThat(Collector.roundTrip(server, "in", "good", "after")).isEqualTo("after");
        assertThat(server.module("m").orElseThrow().counters().rollbacks()).isEqualTo(1);
    }

    @Test
    void anAskedForRollbackAwayFromAVersionWhoseStateSaveTrapsHappens() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] good = stateful("good", "", GOOD_SAVE);
        byte[] bad = stateful("bad", "", "unreachable");
        server.load("m", good);
        server.load("m", bad);
        LoadResult result = server.rollback("m");
        assertThat(result.outcome()).isEqualTo(LoadResult.Outcome.ROLLED_BACK);
        assertThat(server.module("m").orElseThrow().sha256()).isEqualTo(ModuleFiles.sha256(good));
        assertThat(Collector.roundTrip(server, "in", "good", "after")).isEqualTo("after");
    }

    @Test
    void probationRollsBackAVersionWhoseCallsAreDeniedOnEveryMessage() {
        // a denied call traps the guest: on probation it counts as any trap
        server = new WasiServer(WasiConfig.builder().probation(new ProbationConfig(Duration.ofMinutes(5), 2))
                .capabilities("m", Capabilities.of(List.of("good"), null, null)).build());
        byte[] good = Guests.relay("in", "good");
        byte[] denied = Guests.relay("in", "forbidden");
        server.load("m", good);
        server.load("m", denied);
        server.publish("in", "1");
        server.publish("in", "2");
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("m").orElseThrow().counters().denied() >= 2);
        await().atMost(Duration.ofSeconds(20))
                .until(() -> ModuleFiles.sha256(good).equals(server.module("m").orElseThrow().sha256()));
        assertThat(Collector.roundTrip(server, "in", "good", "after")).isEqualTo("after");
        assertThat(server.module("m").orElseThrow().counters().rollbacks()).isEqualTo(1);
    }
}
