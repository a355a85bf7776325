package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.runtime.HostFunction;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasi.WasiOptions;
import com.dylibso.chicory.wasi.WasiPreview1;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.ValType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the imports of one guest instance: the {@code env} module of guest ABI v1 (plus the additive
 * {@code unsubscribe} extension and the {@code http_*} functions of {@link HttpImports}) and WASI preview 1 with the guest's stdout/stderr going to the log under
 * the module's name.
 *
 * <p>Every pointer/length pair a guest passes is checked against its memory before it is read; a bad one
 * raises a {@link WasiModuleException} of kind {@link WasiModuleException.Kind#MEMORY}, which ends that
 * guest call only. So does a topic that is empty, longer than {@value #MAX_TOPIC_BYTES} bytes or not valid UTF-8.
 */
public final class HostBuilder {

    /** Module name of the ABI's host functions. */
    public static final String ENV = "env";

    /** Module name of WASI preview 1. */
    public static final String WASI = "wasi_snapshot_preview1";

    /** Functions this host provides in {@link #ENV}. */
    public static final Set<String> ENV_FUNCTIONS = Set.of("publish", "subscribe", "unsubscribe", "ws_broadcast", "log",
            "http_request_head", "http_request_body", "http_request_set_header", "http_response_status",
            "http_response_header", "http_response_write");

    /** Longest topic a guest may name, in bytes. */
    static final int MAX_TOPIC_BYTES = 1024;

    private static final List<ValType> NONE = List.of();
    private static final List<ValType> I32X2 = List.of(ValType.I32, ValType.I32);
    private static final List<ValType> I32X3 = List.of(ValType.I32, ValType.I32, ValType.I32);
    private static final List<ValType> I32X4 = List.of(ValType.I32, ValType.I32, ValType.I32, ValType.I32);

    private final String module;
    private final WasiConfig config;
    private final Logger guestLog;

    public HostBuilder(String module, WasiConfig config) {
        this.module = module;
        this.config = config;
        this.guestLog = guestLogger(module);
    }

    /** The logger a module's output goes to: {@code io.github.tinywasm.wasi.guest.<module>}. */
    public static Logger guestLogger(String module) {
        return LoggerFactory.getLogger("io.github.tinywasm.wasi.guest." + module);
    }

    /**
     * The imports, with WASI preview 1 bound to {@code wasi}.
     *
     * @param hasMemory whether the module defines a memory; without one, a WASI call that needs it fails as a
     *     {@link WasiModuleException.Kind#NO_MEMORY} error of the module rather than with Chicory's null pointer
     */
    public ImportValues imports(HostApi api, WasiPreview1 wasi, boolean hasMemory) {
        return imports(api, wasi, hasMemory, new HttpImports(module).functions());
    }

    /** The imports, with the {@code env.http_*} functions of the instance's {@link HttpImports}. */
    ImportValues imports(HostApi api, WasiPreview1 wasi, boolean hasMemory, HostFunction[] http) {
        HostFunction[] wasiFunctions = wasi.toHostFunctions();
        if (!hasMemory) {
            for (int i = 0; i < wasiFunctions.length; i++) {
                wasiFunctions[i] = withoutMemory(wasiFunctions[i]);
            }
        }
        return ImportValues.builder()
                .addFunction(wasiFunctions)
                .addFunction(http)
                .addFunction(
                        new HostFunction(ENV, "publish", I32X4, NONE, (inst, args) -> {
                            api.publish(topic(inst, "publish", args[0], args[1]), bytes(inst, "publish", "payload", args[2], args[3]));
                            return null;
                        }),
                        new HostFunction(ENV, "subscribe", I32X3, NONE, (inst, args) -> {
                            api.subscribe(topic(inst, "subscribe", args[0], args[1]));
                            return null;
                        }),
                        new HostFunction(ENV, "unsubscribe", I32X2, NONE, (inst, args) -> {
                            api.unsubscribe(topic(inst, "unsubscribe", args[0], args[1]));
                            return null;
                        }),
                        new HostFunction(ENV, "ws_broadcast", I32X4, NONE, (inst, args) -> {
                            api.wsBroadcast(topic(inst, "ws_broadcast", args[0], args[1]),
                                    bytes(inst, "ws_broadcast", "payload", args[2], args[3]));
                            return null;
                        }),
                        new HostFunction(ENV, "log", I32X2, NONE, (inst, args) -> {
                            api.log(new String(bytes(inst, "log", "message", args[0], args[1]), StandardCharsets.UTF_8));
                            return null;
                        }))
                .build();
    }

    /** A WASI function of a module without memory: Chicory's implementation fails on the missing memory. */
    private HostFunction withoutMemory(HostFunction f) {
        WasmFunctionHandle handle = f.handle();
        String function = f.name();
        return new HostFunction(f.module(), function, f.functionType(), (inst, args) -> {
            try {
                return handle.apply(inst, args);
            } catch (NullPointerException e) {
                if (inst.memory() != null) {
                    throw e;
                }
                throw new WasiModuleException(module, WasiModuleException.Kind.NO_MEMORY,
                        function + ": this WASI call needs the module's memory, but the module has none", e);
            }
        });
    }

    /** WASI preview 1 for this module: real clocks and randomness, stdout/stderr to the log, no stdin. */
    public WasiPreview1 wasi() {
        WasiOptions.Builder options = WasiOptions.builder()
                .withStdout(new LineLogStream(line -> guestLog.info("[{}] {}", module, line)), false)
                .withStderr(new LineLogStream(line -> guestLog.warn("[{}] {}", module, line)), false)
                .withArguments(List.of(module))
                .withThrowOnExit0(true);
        config.directories().forEach(options::withDirectory);
        return WasiPreview1.builder().withOptions(options.build()).build();
    }

    private String topic(Instance inst, String function, long ptr, long len) {
        if ((int) len == 0) {
            throw new WasiModuleException(module, WasiModuleException.Kind.MEMORY, function + ": empty topic");
        }
        if ((len & 0xFFFFFFFFL) > MAX_TOPIC_BYTES) {
            throw new WasiModuleException(module, WasiModuleException.Kind.MEMORY,
                    function + ": topic length " + (len & 0xFFFFFFFFL) + " exceeds " + MAX_TOPIC_BYTES + " bytes");
        }
        byte[] bytes = bytes(inst, function, "topic", ptr, len);
        try {
            // Strict: decoding with replacement would make different byte strings one topic (the Go original compares
            // bytes), so a topic must be valid UTF-8.
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new WasiModuleException(module, WasiModuleException.Kind.MEMORY, function + ": topic is not valid UTF-8 ("
                    + bytes.length + " bytes at " + (ptr & 0xFFFFFFFFL) + "); topics are UTF-8 text");
        }
    }

    private byte[] bytes(Instance inst, String function, String what, long ptr, long len) {
        return GuestMemory.read(module, inst, function, what, ptr, len);
    }

    /** Type of an ABI import, for link-time checks with a clear message; {@code null} for a name the host lacks. */
    static @Nullable FunctionType envType(String name) {
        return switch (name) {
            case "publish", "ws_broadcast" -> FunctionType.of(I32X4, NONE);
            case "subscribe" -> FunctionType.of(I32X3, NONE);
            case "unsubscribe", "log" -> FunctionType.of(I32X2, NONE);
            default -> HttpImports.type(name);
        };
    }
}
