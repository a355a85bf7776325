package io.github.tinywasm.wasi.bench;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasi.WasiOptions;
import com.dylibso.chicory.wasi.WasiPreview1;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ValType;
import java.util.List;

/**
 * The ceiling of delivery: the guest work of one delivery ({@code malloc}, write the payload, {@code on_message},
 * {@code free}) called straight on Chicory, with nothing of this project in between: Chicory's parser, its
 * compiler ({@link MachineFactoryCompiler}, compiled once) or interpreter, {@link ByteArrayMemory}, Chicory's own
 * WASI, and a do-nothing {@code env.subscribe}. Export handles are looked up once. One thread, no timeouts.
 */
final class RawChicoryDelivery implements AutoCloseable {

    private final WasiPreview1 wasi;
    private final Memory memory;
    private final ExportFunction malloc;
    private final ExportFunction onMessage;
    private final ExportFunction free;

    RawChicoryDelivery(byte[] wasm, boolean compiled) {
        WasmModule module = Parser.parse(wasm);
        wasi = WasiPreview1.builder().withOptions(WasiOptions.builder().build()).build();
        HostFunction subscribe = new HostFunction("env", "subscribe", List.of(ValType.I32, ValType.I32, ValType.I32),
                List.of(), (instance, args) -> null);
        Instance.Builder builder = Instance.builder(module)
                .withImportValues(ImportValues.builder().addFunction(wasi.toHostFunctions()).addFunction(subscribe).build())
                .withMemoryFactory(ByteArrayMemory::new)
                .withStart(false);
        if (compiled) {
            builder.withMachineFactory(MachineFactoryCompiler.compile(module));
        }
        Instance instance = builder.build();
        instance.export("_initialize").apply();
        instance.export("init").apply();
        memory = instance.memory();
        malloc = instance.export("malloc");
        onMessage = instance.export("on_message");
        free = instance.export("free");
    }

    /** One delivery of {@code payload}. */
    void deliver(byte[] payload) {
        int ptr = (int) malloc.apply(payload.length)[0];
        memory.write(ptr, payload);
        onMessage.apply(ptr, payload.length);
        free.apply(ptr);
    }

    @Override
    public void close() {
        wasi.close();
    }
}
