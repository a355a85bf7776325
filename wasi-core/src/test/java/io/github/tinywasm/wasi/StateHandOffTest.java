package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** State hand-off across a swap: {@code state_save} of the old version, {@code state_load} of the new one. */
class StateHandOffTest {

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * Counts the messages on "in" and publishes the count (4 bytes, little-endian) on {@code out}; {@code save} and
     * {@code load} are the bodies of its state exports ({@code null}: not exported).
     */
    private static byte[] counter(String out, String save, String load) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "%s")
                  (global $n (mut i32) (i32.const 0))
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (global.set $n (i32.add (global.get $n) (i32.const 1)))
                    (i32.store (i32.const 2048) (global.get $n))
                    (call $publish (i32.const 32) (i32.const %d) (i32.const 2048) (i32.const 4)))
                  %s
                  %s)
                """.formatted(out, out.length(),
                save == null ? "" : "(func (export \"state_save\") (result i64) " + save + ")",
                load == null ? "" : "(func (export \"state_load\") (param $p i32) (param $l i32) " + load + ")"));
    }

    private static final String SAVE = "(i32.store (i32.const 3000) (global.get $n)) "
            + "(i64.or (i64.shl (i64.const 3000) (i64.const 32)) (i64.const 4))";
    private static final String LOAD = "(if (i32.eq (local.get $l) (i32.const 4)) (then (global.set $n (i32.load (local.get $p)))))";

    private static int count(Message m) {
        return ByteBuffer.wrap(m.payload()).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private int next(String out) {
        Collector c = new Collector();
        Subscription s = server.subscribe(out, c);
        try {
            server.publish("in", "tick");
            return count(c.awaitCount(1).get(0));
        } finally {
            s.close();
        }
    }

    @Test
    void theStateIsCarriedAcrossASwapAndAReload() throws Exception {
        server = new WasiServer(WasiConfig.defaults());
        server.load("m", counter("v1", SAVE, LOAD));
        for (int i = 1; i <= 3; i++) {
            assertThat(next("v1")).isEqualTo(i);
        }
        server.load("m", counter("v2", SAVE, LOAD));
        assertThat(next("v2")).as("v2 goes on from v1's count").isEqualTo(4);
        server.load("m", counter("v2", SAVE, LOAD), true); // a forced reload of the same bytes
        assertThat(next("v2")).isEqualTo(5);
        server.rollback("m");
        assertThat(next("v1")).as("a rollback carries it too").isEqualTo(6);
    }

    @Test
    void withoutBothExportsTheNewVersionStartsFresh() {
        server = new WasiServer(WasiConfig.defaults());
        server.load("m", counter("v1", null, LOAD));
        next("v1");
        next("v1");
        server.load("m", counter("v2", SAVE, LOAD));
        assertThat(next("v2")).as("v1 does not save: v2 starts from zero").isEqualTo(1);
        next("v2");
        server.load("m", counter("v3", SAVE, null));
        assertThat(next("v3")).as("v3 does not load: it starts from zero").isEqualTo(1);
    }

    @Test
    void aTrapInEitherExportFailsTheSwapAndTheOldVersionKeepsServingWithItsState() {
        server = new WasiServer(WasiConfig.defaults());
        server.load("m", counter("v1", SAVE, LOAD));
        next("v1");
        assertThatThrownBy(() -> server.load("m", counter("v2", SAVE, "unreachable")))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'm': state hand-off failed: state_load trapped");
        assertThat(next("v1")).isEqualTo(2);

        server.load("m", counter("v1b", "unreachable", LOAD));
        assertThat(next("v1b")).isEqualTo(3);
        assertThatThrownBy(() -> server.load("m", counter("v2", SAVE, LOAD)))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'm': state hand-off failed: state_save trapped");
        assertThat(next("v1b")).as("still serving, with its state").isEqualTo(4);
    }

    @Test
    void aStateOutsideTheModulesMemoryFailsTheSwap() {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(2)).build());
        server.load("m", counter("v1", "(i64.const -1)", LOAD));
        assertThatThrownBy(() -> server.load("m", counter("v2", SAVE, LOAD)))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("state hand-off failed: state_save returned 4294967295 bytes at 4294967295, outside its memory")
                .satisfies(e -> assertThat(((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.MEMORY));
        assertThat(next("v1")).isEqualTo(1);
    }

    @Test
    void theSampleUsersModuleKeepsItsRosterAcrossASwapAndAReload() throws Exception {
        byte[] users = Guests.built("users");
        Files.write(dir.resolve("users.wasm"), users);
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.start();
        Collector changed = new Collector();
        server.subscribe("users.changed", changed);
        server.publish("users.requests", "add ann");
        server.publish("users.requests", "add bob");
        changed.awaitCount(2);

        server.load("users", users); // a swap (same bytes, always loaded)
        server.publish("users.requests", "list");
        assertThat(changed.awaitCount(3).get(2).payloadAsString()).isEqualTo("list | 2 users: ann, bob");

        server.reload("users", true); // a reload of its file
        server.publish("users.requests", "add cy");
        assertThat(changed.awaitCount(4).get(3).payloadAsString()).isEqualTo("added cy | 3 users: ann, bob, cy");
        assertThat(server.module("users").orElseThrow().counters().swaps()).isEqualTo(2);
        assertThat(List.of(server.module("users").orElseThrow().lastLoadFailed())).containsExactly(false);
    }
}
