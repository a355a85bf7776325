package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Each kind of bad input gets a specific error naming the module, and a healthy module next to it keeps
 * serving throughout.
 */
class BadInputTest {

    private WasiServer server;
    private Collector healthyOut;

    @BeforeEach
    void start() {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ofMillis(300))
                .maxMemoryBytes(4 * WasiConfig.PAGE_SIZE).build());
        server.load("healthy", Guests.relay("ping", "pong"));
        healthyOut = new Collector();
        server.subscribe("pong", healthyOut);
    }

    @AfterEach
    void close() {
        server.close();
    }

    private void assertHealthyStillServes() {
        int before = healthyOut.size();
        server.publish("ping", "alive");
        healthyOut.awaitCount(before + 1);
        assertThat(server.module("healthy").orElseThrow().state()).isEqualTo(ModuleState.SERVING);
    }

    private static String module(String body) {
        return "(module\n" + Guests.IMPORTS + body + ")\n";
    }

    @Test
    void corruptAndTruncatedAndNonWasmFilesAreRejectedClearly() {
        byte[] good = Guests.relay("x", "y");
        byte[] truncated = Arrays.copyOf(good, good.length / 2);
        byte[] corrupt = good.clone();
        corrupt[10] = (byte) 0xFF;
        corrupt[11] = (byte) 0xFF;
        byte[] notWasm = "#!/bin/sh\necho not a module\n".getBytes(StandardCharsets.UTF_8);

        for (byte[] bad : new byte[][] {truncated, corrupt, notWasm, new byte[0]}) {
            assertThatThrownBy(() -> server.load("bad", bad))
                    .isInstanceOf(WasiModuleException.class)
                    .hasMessageStartingWith("module 'bad': not a valid WebAssembly module")
                    .extracting(e -> ((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.INVALID_MODULE);
        }
        ModuleInfo bad = server.module("bad").orElseThrow();
        assertThat(bad.state()).isEqualTo(ModuleState.FAILED);
        assertThat(bad.counters().failedLoads()).isEqualTo(4);
        assertThat(bad.lastError()).contains("not a valid WebAssembly module");
        assertHealthyStillServes();
    }

    /** Hundreds of random corruptions of real modules: each loads or fails with a module error, nothing else. */
    @Test
    void randomlyCorruptedModulesFailOnlyWithModuleErrors() {
        java.util.Random random = new java.util.Random(Long.getLong("fuzz.seed", 42));
        byte[][] seeds = {Guests.relay("in", "out"), Guests.built("counter"), Guests.built("echo")};
        int failed = 0;
        int iterations = Integer.getInteger("fuzz.iterations", 300); // raise locally for a longer search
        for (int i = 0; i < iterations; i++) {
            byte[] bytes = seeds[i % seeds.length].clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                bytes[8 + random.nextInt(bytes.length - 8)] = (byte) random.nextInt(256);
            }
            try {
                server.load("fuzz", bytes);
            } catch (WasiModuleException e) {
                assertThat(e.getMessage()).startsWith("module 'fuzz': ");
                failed++;
            }
        }
        assertThat(failed).isPositive();
        assertHealthyStillServes();
    }

    @Test
    void importTheHostDoesNotProvideIsNamed() {
        byte[] wasm = Guests.wat("""
                (module
                  (import "env" "open_database" (func (param i32)))
                  (memory (export "memory") 1))
                """);
        assertThatThrownBy(() -> server.load("needsdb", wasm))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'needsdb': imports env.open_database, which the host does not provide");

        byte[] otherModule = Guests.wat("""
                (module
                  (import "wasi_snapshot_preview2" "whatever" (func))
                  (memory (export "memory") 1))
                """);
        assertThatThrownBy(() -> server.load("p2", otherModule))
                .hasMessageContaining("imports wasi_snapshot_preview2.whatever, which the host does not provide");

        byte[] wrongType = Guests.wat("""
                (module
                  (import "env" "publish" (func (param i32 i32)))
                  (memory (export "memory") 1))
                """);
        assertThatThrownBy(() -> server.load("wrongtype", wrongType))
                .hasMessageContaining("imports env.publish with type");

        byte[] importsMemory = Guests.wat("(module (import \"env\" \"memory\" (memory 1)))");
        assertThatThrownBy(() -> server.load("importsmem", importsMemory))
                .hasMessageContaining("module 'importsmem': imports memory env.memory, but the host provides only functions");
        assertHealthyStillServes();
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void trapInOnMessageIsCountedAndTheModuleKeepsRunning(Engine engine) {
        server.close();
        server = new WasiServer(WasiConfig.builder().engine(engine).build());
        // Traps (integer divide by zero) when the payload's first byte is 0, else relays it.
        server.load("fragile", Guests.onIn("out", """
                    (drop (i32.div_u (i32.const 1) (i32.load8_u (local.get $p))))
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))
                """));
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", new byte[] {1});
        server.publish("in", new byte[] {0});
        server.publish("in", new byte[] {2});

        assertThat(out.awaitCount(2)).extracting(m -> m.payload()[0]).containsExactly((byte) 1, (byte) 2);
        ModuleInfo info = server.module("fragile").orElseThrow();
        assertThat(info.counters().traps()).isEqualTo(1);
        assertThat(info.counters().delivered()).isEqualTo(2);
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);
        assertThat(info.lastError()).startsWith("module 'fragile': on_message trapped");
    }

    @Test
    void pointerOutsideMemoryPassedToAHostFunctionIsAModuleError() {
        server.load("wild", Guests.onIn("out", """
                    (call $publish (i32.const 32) (i32.const 3) (i32.const 65000) (i32.const 1000))
                """));
        server.publish("in", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("wild").orElseThrow().counters().errors() == 1);
        ModuleInfo info = server.module("wild").orElseThrow();
        assertThat(info.lastError()).isEqualTo("module 'wild': publish: payload pointer/length (ptr=65000, len=1000)"
                + " is outside the guest's memory of 65536 bytes");
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);

        // a topic pointer past the end during init fails the load with the same precision
        assertThatThrownBy(() -> server.load("wildinit", Guests.wat(module("""
                  (memory (export "memory") 1)
                  (func (export "init") (call $subscribe (i32.const -8) (i32.const 16) (i32.const 0)))
                """)))).hasMessageContaining("module 'wildinit': subscribe: topic pointer/length (ptr=4294967288, len=16)");
        assertHealthyStillServes();
    }

    @Test
    void guestWithoutMallocThatSubscribesGetsASpecificErrorPerMessage() {
        server.load("nomalloc", Guests.wat(module("""
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param i32 i32))
                """)));
        server.publish("in", "a");
        server.publish("in", "b");
        await().atMost(Duration.ofSeconds(10)).until(
                () -> server.module("nomalloc").orElseThrow().counters().dropped().get(DropReason.NO_ALLOCATOR) == 2);
        assertThat(server.module("nomalloc").orElseThrow().lastError())
                .isEqualTo("module 'nomalloc': cannot deliver a message: the module exports neither 'malloc' nor 'alloc'");
        assertHealthyStillServes();
    }

    private static final String LOOP = "(loop $forever (br $forever))";

    @ParameterizedTest
    @EnumSource(Engine.class)
    void guestLoopingInOnMessageIsInterruptedAndItsWorkerSurvives(Engine engine) {
        server.close();
        server = new WasiServer(WasiConfig.builder().engine(engine).callTimeout(Duration.ofMillis(300)).workerThreads(1).build());
        server.load("healthy", Guests.relay("ping", "pong"));
        server.subscribe("pong", healthyOut);
        // Loops forever on payload "loop", else relays.
        server.load("spinner", Guests.onIn("out", """
                    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 108)) (then %s))
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))
                """.formatted(LOOP)));
        Collector out = new Collector();
        server.subscribe("out", out);

        server.publish("in", "loop");
        server.publish("in", "after");

        assertThat(out.awaitCount(1, Duration.ofSeconds(20)).get(0).payloadAsString()).isEqualTo("after");
        ModuleInfo info = server.module("spinner").orElseThrow();
        assertThat(info.counters().timeouts()).isEqualTo(1);
        assertThat(info.lastError()).contains("module 'spinner': on_message was interrupted after exceeding the call timeout");
        // the single shared worker thread survived the interrupt, and its flag was cleared
        assertHealthyStillServes();
        server.publish("in", "again");
        assertThat(out.awaitCount(2).get(1).payloadAsString()).isEqualTo("again");
    }

    @Test
    void guestLoopingInInitFailsTheLoadAfterTheCallTimeout() {
        assertThatThrownBy(() -> server.load("stuck", Guests.wat(module("""
                  (memory (export "memory") 1)
                  (func (export "init") %s)
                """.formatted(LOOP)))))
                .isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'stuck': init was interrupted after exceeding the call timeout")
                .extracting(e -> ((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.TIMEOUT);
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        assertHealthyStillServes();
    }

    @Test
    void guestGrowingMemoryPastTheLimitIsRefused() {
        // Limit is 4 pages: grows by 1 page per message and publishes memory.grow's result (-1 when refused).
        server.load("grower", Guests.onIn("grown", """
                    (i32.store (i32.const 2048) (memory.grow (i32.const 1)))
                    (call $publish (i32.const 32) (i32.const 5) (i32.const 2048) (i32.const 4))
                """));
        Collector grown = new Collector();
        server.subscribe("grown", grown);
        for (int i = 0; i < 5; i++) {
            server.publish("in", "grow");
        }
        assertThat(grown.awaitCount(5)).extracting(m -> java.nio.ByteBuffer.wrap(m.payload())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt()).containsExactly(1, 2, 3, -1, -1);
        assertThat(server.module("grower").orElseThrow().memoryBytes()).isEqualTo(4L * WasiConfig.PAGE_SIZE);

        assertThatThrownBy(() -> server.load("huge", Guests.wat("(module (memory (export \"memory\") 8))")))
                .hasMessageContaining("module 'huge': needs 8 memory pages at start, more than the limit of 4 pages");
        assertHealthyStillServes();
    }

    @Test
    void invalidModuleNamesAreRejected() {
        assertThatThrownBy(() -> server.load("../etc/passwd", Guests.relay("a", "b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid module name");
    }
}
