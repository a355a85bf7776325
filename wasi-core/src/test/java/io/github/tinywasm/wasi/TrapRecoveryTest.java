package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * A trap must not take the module's next messages with it. LLVM-built guests (C, Rust, TinyGo) keep a shadow stack
 * whose pointer is a wasm global; a trapped call never runs its epilogue, so without a reset every trap leaks the
 * frames it had pushed, and after enough traps every call fails with an out-of-bounds access. Globals of other
 * guests (AssemblyScript's runtime, hand-written WAT) are the guest's own state and are left alone.
 */
class TrapRecoveryTest {

    /** The C guest names its stack pointer (name section); 4 KiB per trap exhausts its 64 KiB stack in 16. */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void aCGuestServesAfterManyTrapsThatLeftItsStackInUse(Engine engine) {
        try (WasiServer server = new WasiServer(WasiConfig.builder().engine(engine).build())) {
            server.load("trapper", Guests.built("trapper"));
            Collector out = new Collector();
            server.subscribe("trapper.out", out);
            int traps = 200;
            for (int i = 0; i < traps; i++) {
                server.publish("trapper.in", "trap");
            }
            server.publish("trapper.in", "hello");

            assertThat(out.awaitCount(1, Duration.ofSeconds(60)).get(0).payloadAsString()).isEqualTo("ok:1");
            ModuleInfo info = server.module("trapper").orElseThrow();
            assertThat(info.counters().traps()).isEqualTo(traps);
            assertThat(info.counters().delivered()).isEqualTo(1);
        }
    }

    /** A stripped Rust guest has no names, but exports the linker's __heap_base: its global 0 is the stack pointer. */
    @Test
    void aStrippedRustGuestServesAfterAThousandPanics() {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("probe", Guests.built("probe"));
            Collector count = new Collector();
            server.subscribe("probe.count", count);
            int panics = 1200;
            for (int i = 0; i < panics; i++) {
                server.publish("probe.ctl", "panic");
            }
            server.publish("probe.ctl", "count");

            assertThat(count.awaitCount(1, Duration.ofSeconds(120)).get(0).payloadAsString())
                    .isEqualTo(Integer.toString(panics + 1));
            assertThat(server.module("probe").orElseThrow().counters().traps()).isEqualTo(panics);
        }
    }

    /** A module whose mutable global 0 is its own state (here a counter it bumps before trapping) keeps it. */
    @Test
    void otherGuestsGlobalsAreNotRolledBack() {
        byte[] wasm = Guests.onIn("out", "(global $n (mut i32) (i32.const 0))", """
                    (global.set $n (i32.add (global.get $n) (i32.const 1)))
                    (i32.store (i32.const 2048) (global.get $n))
                    (call $publish (i32.const 32) (i32.const 3) (i32.const 2048) (i32.const 4))
                    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 116)) (then unreachable))
                """);
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("counter", wasm);
            Collector out = new Collector();
            server.subscribe("out", out);
            server.publish("in", "trap");
            server.publish("in", "go");
            out.awaitCount(2);
            await().until(() -> server.module("counter").orElseThrow().counters().traps() == 1);
            // the trapped call's increment stays: 1 then 2, not 1 then 1
            assertThat(out.messages().get(1).payload()).containsExactly(2, 0, 0, 0);
        }
    }
}
