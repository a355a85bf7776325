package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.tinywasm.wasi.module.WasmModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: tinywasm/wasi's own test modules, byte for byte. Every export is optional, {@code memory} included; only
 * what needs memory fails, as an error of that module.
 */
class ModulesWithoutMemoryTest {

    /** tinywasm/wasi's {@code emptyWasm}: the 8-byte header and nothing else (its swap, file-event and restart tests). */
    static final byte[] EMPTY_WASM = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

    /** tinywasm/wasi's integration-test module: {@code (module (type (func)) (func) (export "init" (func 0)))}. */
    static final byte[] INIT_ONLY_WASM = HexFormat.of().parseHex(
            "0061736d01000000" + "010401600000" + "03020100" + "0708010469" + "6e69740000" + "0a040102000b");

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theOriginalsModulesAreTheBytesItUses() {
        assertThat(EMPTY_WASM).hasSize(8);
        assertThat(INIT_ONLY_WASM).hasSize(34);
        assertThat(Guests.wat("(module (type (func)) (func) (export \"init\" (func 0)))")).isEqualTo(INIT_ONLY_WASM);
    }

    /** TestWasiServer_SwapModule_Lifecycle: swapModule("test", emptyWasm) twice. */
    @Test
    void headerOnlyModuleLoadsAndSwapsTwice() {
        server = new WasiServer(WasiConfig.defaults());
        ModuleInfo first = server.load("test", EMPTY_WASM);
        assertThat(first.state()).isEqualTo(ModuleState.SERVING);
        assertThat(first.memoryBytes()).as("no memory figure rather than 0").isNull();
        assertThat(first.topics()).isEmpty();

        ModuleInfo second = server.load("test", EMPTY_WASM);
        assertThat(second.state()).isEqualTo(ModuleState.SERVING);
        assertThat(second.counters().swaps()).isEqualTo(1);
        assertThat(server.load("test", EMPTY_WASM).counters().swaps()).isEqualTo(2);

        assertThat(server.unload("test")).isTrue();
        assertThat(server.module("test")).isEmpty();
    }

    /** TestWasiServer_NewFileEvent: a "write" event for test.wasm holding the header-only module loads it. */
    @Test
    void fileEventLoadsTheHeaderOnlyModule() throws Exception {
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).build());
        Path file = dir.resolve("test.wasm");
        Files.write(file, EMPTY_WASM);
        server.newFileEvent("test.wasm", ".wasm", file.toString(), "write");
        assertThat(server.module("test")).get().extracting(ModuleInfo::state).isEqualTo(ModuleState.SERVING);
    }

    /** TestWasiServer_RestartServer: pre-load, restart, still loaded. */
    @Test
    void restartLoadsTheHeaderOnlyModuleAgain() throws Exception {
        Files.write(dir.resolve("test.wasm"), EMPTY_WASM);
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.load("test", EMPTY_WASM);
        server.restart();
        assertThat(server.module("test")).get().extracting(ModuleInfo::state).isEqualTo(ModuleState.SERVING);
        server.stop();
        assertThat(server.module("test")).isEmpty();
    }

    /** TestWasiIntegration_PubSub: Load("publisher", wasm) then Init. */
    @Test
    void initOnlyModuleLoadsAndRunsInit() {
        server = new WasiServer(WasiConfig.defaults());
        ModuleInfo info = server.load("publisher", INIT_ONLY_WASM);
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);
        assertThat(info.lastError()).isNull();
        assertThat(info.memoryBytes()).isNull();
        assertThat(server.unload("publisher")).isTrue();
    }

    /** A module with a memory it does not export is a module with memory: pointers are offsets into it. */
    @Test
    void moduleWithAnUnexportedMemoryServesMessages() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] relay = Guests.wat(Guests.relayWat("in", "out", "").replace("(memory (export \"memory\") 2)", "(memory 2)"));
        ModuleInfo info = server.load("hidden", relay);
        assertThat(info.memoryBytes()).isEqualTo(2L * WasiConfig.PAGE_SIZE);
        assertThat(Collector.roundTrip(server, "in", "out", "through an unexported memory")).isEqualTo("through an unexported memory");
    }

    @Test
    void hostCallThatPassesAPointerFailsAsAnErrorOfThatModule() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] logsInInit = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (func (export "init") (call $log (i32.const 16) (i32.const 5))))
                """);
        assertThatThrownBy(() -> server.load("nomem", logsInInit))
                .isInstanceOf(WasiModuleException.class)
                .hasMessage("module 'nomem': log: the module has no memory to read the message from (ptr=16, len=5)")
                .extracting(e -> ((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.NO_MEMORY);

        // an empty message needs no memory
        byte[] logsNothing = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (func (export "init") (call $log (i32.const 0) (i32.const 0))))
                """);
        assertThat(server.load("quiet", logsNothing).state()).isEqualTo(ModuleState.SERVING);
    }

    @Test
    void wasiCallThatNeedsMemoryFailsWithAClearMessage() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] readsClock = Guests.wat("""
                (module
                  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
                  (func (export "init") (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 64)))))
                """);
        assertThatThrownBy(() -> server.load("clock", readsClock))
                .isInstanceOf(WasiModuleException.class)
                .hasMessage("module 'clock': clock_time_get: this WASI call needs the module's memory, but the module has none")
                .extracting(e -> ((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.NO_MEMORY);
        assertThat(server.module("clock")).get().extracting(ModuleInfo::state).isEqualTo(ModuleState.FAILED);
    }

    @Test
    void deliveryToAModuleWithoutMemoryIsANoMemoryError() {
        byte[] handlerOnly = Guests.wat("(module (func (export \"on_message\") (param i32 i32)))");
        try (WasmModule module = WasmModule.standalone("handler", handlerOnly, WasiConfig.defaults())) {
            assertThat(module.hasMemory()).isFalse();
            assertThatThrownBy(() -> module.deliver(Message.of("t", "x")))
                    .isInstanceOf(WasiModuleException.class)
                    .hasMessage("module 'handler': cannot deliver a message: the module has no memory to receive it in")
                    .extracting(e -> ((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.NO_MEMORY);
        }
        assertThat(DropReason.NO_MEMORY.tag()).isEqualTo("no-memory");
    }
}
