package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.ChicoryInterruptedException;
import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasi.WasiExitException;
import com.dylibso.chicory.wasi.WasiPreview1;
import com.dylibso.chicory.wasm.InvalidException;
import com.dylibso.chicory.wasm.MalformedException;
import com.dylibso.chicory.wasm.UninstantiableException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.UnlinkableException;
import com.dylibso.chicory.wasm.types.Export;
import com.dylibso.chicory.wasm.types.ExportSection;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionImport;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.Import;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.dylibso.chicory.wasm.types.ValType;
import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;
import io.github.tinywasm.wasi.deploy.CompileCache;
import io.github.tinywasm.wasi.deploy.DiskCompileCache;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.HttpMode;
import io.github.tinywasm.wasi.http.PipelineStep;
import io.github.tinywasm.wasi.internal.MessageAccess;
import io.github.tinywasm.wasi.policy.Capabilities;
import java.util.Map;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded version of a module: a Chicory instance with the ABI's imports, its cached exports, and the
 * topics it subscribed to. Its HTTP side ({@code handle}, {@code handle_http} and the {@code env.http_*} imports)
 * lives in {@link HttpExports} and {@link HttpImports}.
 *
 * <p>Not thread-safe, like the Chicory instance it wraps: one thread at a time may call {@link #init()},
 * {@link #deliver(Message)}, {@link #serveHttp}, {@link #drain(Duration)} and {@link #close()} (the owning slot's
 * mailbox worker, or the thread swapping the slot while its mailbox is paused). {@link #topics()} and
 * {@link #subscribedTo(String)} may be read from any thread.
 */
public final class WasmModule implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WasmModule.class);
    private static final long[] NO_ARGS = new long[0];

    private final String name;
    private final Instance instance;
    private final @Nullable Memory memory;
    private final WasiPreview1 wasi;
    private final CallWatchdog.Guard guard;
    /** Reset after a failed call; {@link ShadowStack#NONE} until start-up has returned. */
    private ShadowStack shadowStack = ShadowStack.NONE;
    // Argument arrays of the delivery path, reused (worker thread only; see deliver).
    private final long[] args1 = new long[1];
    private final long[] args2 = new long[2];
    private final long[] args4 = new long[4];
    private final String engine;
    private final Binding binding;
    /** The last {@link #subscribedTo} answer; racy by design (see {@link TopicCheck}). */
    private @Nullable TopicCheck lastCheck;
    private final @Nullable ExportFunction malloc;
    private final @Nullable ExportFunction free;
    private final @Nullable ExportFunction onMessage;
    private final @Nullable ExportFunction onTopicMessage;
    private final @Nullable ExportFunction drain;
    private final @Nullable ExportFunction init;
    private final @Nullable ExportFunction start;
    private final @Nullable ExportFunction initialize;
    private final HttpExports http;
    private final StateExports state;

    private WasmModule(String name, Instance instance, WasiPreview1 wasi, CallWatchdog.Guard guard, String engine,
            Binding binding, HttpImports httpImports) {
        this.name = name;
        this.instance = instance;
        this.memory = instance.memory();
        this.wasi = wasi;
        this.guard = guard;
        this.engine = engine;
        this.binding = binding;
        ExportFunction m = function("malloc");
        this.malloc = m != null ? m : function("alloc");
        this.free = function("free");
        this.onMessage = function("on_message");
        this.onTopicMessage = function("on_topic_message");
        this.drain = function("drain");
        this.init = function("init");
        this.start = function("_start");
        this.initialize = function("_initialize");
        this.http = new HttpExports(this, function("handle"), function("handle_http"), httpImports);
        this.state = new StateExports(this, function("state_save"), function("state_load"));
    }

    /**
     * Loads a module on its own, outside any {@link WasiServer}: its {@code publish} and {@code ws_broadcast}
     * go nowhere and no watchdog limits its calls. For tools, tests and benchmarks that call a guest
     * directly; the caller owns the instance and must confine it to one thread at a time.
     *
     * @throws WasiModuleException if the module cannot be loaded
     */
    public static WasmModule standalone(String name, byte[] bytes, WasiConfig config) {
        CallWatchdog unlimited = new CallWatchdog(Duration.ZERO);
        return load(name, bytes, config, new HostServices() {
            @Override
            public void publish(Message message) {}

            @Override
            public void broadcast(String module, String topic, byte[] payload) {}
        }, unlimited);
    }

    /**
     * Parses, links, compiles and instantiates {@code bytes}, then runs {@code _start} or {@code _initialize}.
     * Does not call {@code init}: the slot calls it when it is ready to commit this version.
     *
     * @throws WasiModuleException with the module's name and a specific reason
     */
    public static WasmModule load(String name, byte[] bytes, WasiConfig config, HostServices services, CallWatchdog watchdog) {
        return instantiate(compile(name, bytes, config), config, services, watchdog);
    }

    /**
     * A module version parsed, checked and compiled once; {@link #instantiate} makes any number of instances of it (the
     * instances of an HTTP pool share the compiled code, and the compile cache keeps it for a redeploy or a rollback).
     * Opaque outside the engine.
     */
    public record Compiled(String name, com.dylibso.chicory.wasm.WasmModule parsed, @Nullable MemoryLimits limits,
            @Nullable Function<Instance, Machine> machine, String engine) {}

    /**
     * Parses, links and compiles {@code bytes} as the engine would load them, without instantiating or running
     * anything of them.
     *
     * @return how the module would run: "compiler", "interpreter", or why it would fall back
     * @throws WasiModuleException with the module's name and a specific reason
     */
    public static String validate(String name, byte[] bytes, String sha256, WasiConfig config, CompileCache<Compiled> cache) {
        return compile(name, bytes, config, cache, sha256).engine();
    }

    /**
     * Parses, links and compiles {@code bytes}.
     *
     * @throws WasiModuleException with the module's name and a specific reason
     */
    static Compiled compile(String name, byte[] bytes, WasiConfig config) {
        return compile(name, bytes, config, null, null);
    }

    /**
     * Parses, links and compiles {@code bytes}, or takes them compiled from {@code cache}: from memory (nothing runs),
     * or from its disk tier (the compiler's output is loaded, the compiler does not run).
     *
     * @param cache the compile cache, or {@code null} for none
     * @param sha256 hex SHA-256 of {@code bytes} (the cache's key), or {@code null} for no cache
     * @throws WasiModuleException with the module's name and a specific reason
     */
    static Compiled compile(String name, byte[] bytes, WasiConfig config, @Nullable CompileCache<Compiled> cache,
            @Nullable String sha256) {
        if (bytes.length > config.maxModuleSize()) {
            throw new WasiModuleException(name, Kind.TOO_LARGE, bytes.length
                    + " bytes, more than the maximum module size of " + config.maxModuleSize() + " bytes");
        }
        if (bytes.length < 8 || bytes[0] != 0 || bytes[1] != 'a' || bytes[2] != 's' || bytes[3] != 'm') {
            throw new WasiModuleException(name, Kind.INVALID_MODULE, "not a valid WebAssembly module (" + bytes.length
                    + " bytes): it does not start with the \\0asm header");
        }
        String key = cache != null && sha256 != null
                ? CompileCache.key(sha256, config.engine() == Engine.COMPILER ? "compiler" : "interpreter") : null;
        if (cache != null && key != null) {
            Compiled held = cache.get(key);
            if (held != null) {
                return new Compiled(name, held.parsed(), held.limits(), held.machine(), held.engine());
            }
        }
        com.dylibso.chicory.wasm.WasmModule parsed;
        try {
            parsed = Parser.parse(bytes);
        } catch (RuntimeException | AssertionError | StackOverflowError e) {
            // Chicory's parser can fail on hostile input with any of these; all mean "not valid".
            throw new WasiModuleException(name, Kind.INVALID_MODULE,
                    "not a valid WebAssembly module (" + bytes.length + " bytes): " + parseError(e), e);
        }
        checkImports(name, parsed);
        checkExports(name, parsed);
        MemoryLimits limits = memoryLimits(name, parsed, config);

        String engine = "interpreter";
        Function<Instance, Machine> machine = null;
        if (config.engine() == Engine.COMPILER) {
            try {
                machine = machineFactory(name, parsed, InterpreterFallback.FAIL, cache, "compiler-fail");
                engine = "compiler";
            } catch (RuntimeException | LinkageError | AssertionError whole) {
                // Usually one function too large for a JVM method: interpret just those, compile the rest.
                try {
                    machine = machineFactory(name, parsed, InterpreterFallback.SILENT, cache, "compiler-silent");
                    engine = "compiler (some functions interpreted)";
                    log.warn("[{}] some functions cannot be compiled and run in the interpreter: {}", name, whole.getMessage());
                } catch (RuntimeException | LinkageError | AssertionError e) {
                    log.warn("[{}] cannot be compiled, falling back to the interpreter: {}", name, e.toString());
                    engine = "interpreter (compiler failed: " + e.getMessage() + ")";
                }
            }
        }
        Compiled compiled = new Compiled(name, parsed, limits, machine, engine);
        if (cache != null && key != null) {
            cache.put(key, compiled, bytes.length);
        }
        return compiled;
    }

    /** Runs Chicory's compiler, through the disk tier of {@code cache} if it has one; counts a compiler run. */
    private static Function<Instance, Machine> machineFactory(String name, com.dylibso.chicory.wasm.WasmModule parsed,
            InterpreterFallback fallback, @Nullable CompileCache<Compiled> cache, String options) {
        MachineFactoryCompiler.Builder builder = MachineFactoryCompiler.builder(parsed).withInterpreterFallback(fallback);
        DiskCompileCache diskTier = cache != null ? cache.disk() : null;
        DiskCompileCache.Session disk = diskTier != null ? diskTier.session(name, options) : null;
        if (disk != null) {
            builder.withCache(disk);
        }
        Function<Instance, Machine> machine = builder.compile();
        if (cache != null && (disk == null || !disk.hit())) {
            cache.compiled();
        }
        return machine;
    }

    /**
     * Instantiates a compiled version with the ABI's imports, then runs {@code _start} or {@code _initialize}. Does not
     * call {@code init}: the slot calls it when it is ready to commit this version.
     *
     * @throws WasiModuleException with the module's name and a specific reason
     */
    static WasmModule instantiate(Compiled compiled, WasiConfig config, HostServices services, CallWatchdog watchdog) {
        return instantiate(compiled, config, services, watchdog, null);
    }

    /**
     * As {@link #instantiate(Compiled, WasiConfig, HostServices, CallWatchdog)}, with every call into the instance
     * (its {@code _start} included) interrupted at {@code deadline} ({@link System#nanoTime()}; {@code null}: none)
     * until {@link #noDeadline()}.
     */
    static WasmModule instantiate(Compiled compiled, WasiConfig config, HostServices services, CallWatchdog watchdog,
            @Nullable Long deadline) {
        String name = compiled.name();
        com.dylibso.chicory.wasm.WasmModule parsed = compiled.parsed();
        MemoryLimits limits = compiled.limits();
        Function<Instance, Machine> machine = compiled.machine();
        String engine = compiled.engine();
        HostBuilder host = new HostBuilder(name, config);
        WasiPreview1 wasi = host.wasi();
        Binding binding = new Binding(name, services, config.capabilities(name));
        HttpImports httpImports = new HttpImports(name);
        CallWatchdog.Guard guard = watchdog.guard(name);
        if (deadline != null) {
            guard.interruptAfter(deadline);
        }
        WasmModule module = null;
        try {
            Instance.Builder builder = Instance.builder(parsed)
                    .withImportValues(host.imports(binding, wasi, definesMemory(parsed), httpImports.functions()))
                    .withMemoryFactory(ByteArrayMemory::new)
                    .withStart(false);
            if (limits != null) {
                builder.withMemoryLimits(limits);
            }
            if (machine != null) {
                builder.withMachineFactory(machine);
            }
            Instance instance = guarded(name, guard, "instantiation", builder::build);
            module = new WasmModule(name, instance, wasi, guard, engine, binding, httpImports);
            module.runStart();
            module.shadowStack = ShadowStack.of(parsed, instance);
            return module;
        } catch (RuntimeException e) {
            if (module != null) {
                module.close();
            } else {
                wasi.close();
                guard.close();
            }
            throw e instanceof WasiModuleException w ? w : classify(name, "instantiation", e, CallWatchdog.NOT_INTERRUPTED);
        }
    }

    /** Chicory prefixes the spec's alternative wordings of a parse error; keep the specific part. */
    private static String parseError(Throwable e) {
        if (!(e instanceof com.dylibso.chicory.wasm.ChicoryException)) {
            return e.toString();
        }
        String m = String.valueOf(e.getMessage());
        String prefix = "section size mismatch, unexpected end of section or function, ";
        return m.startsWith(prefix) && m.length() > prefix.length() ? m.substring(prefix.length()) : m;
    }

    private static void checkImports(String name, com.dylibso.chicory.wasm.WasmModule parsed) {
        for (int i = 0; i < parsed.importSection().importCount(); i++) {
            Import imp = parsed.importSection().getImport(i);
            String what = imp.module() + "." + imp.name();
            if (imp.importType() != ExternalType.FUNCTION) {
                throw new WasiModuleException(name, Kind.LINK, "imports " + imp.importType().name().toLowerCase()
                        + " " + what + ", but the host provides only functions (a module defines its own memory, if it needs one)");
            }
            if (HostBuilder.ENV.equals(imp.module())) {
                FunctionType expected = HostBuilder.envType(imp.name());
                if (expected == null) {
                    throw new WasiModuleException(name, Kind.LINK, "imports " + what
                            + ", which the host does not provide (env provides " + new TreeSet<>(HostBuilder.ENV_FUNCTIONS) + ")");
                }
                FunctionType actual = parsed.typeSection().getType(((FunctionImport) imp).typeIndex());
                if (!actual.typesMatch(expected)) {
                    throw new WasiModuleException(name, Kind.LINK,
                            "imports " + what + " with type " + actual + ", expected " + expected);
                }
            } else if (!HostBuilder.WASI.equals(imp.module())) {
                throw new WasiModuleException(name, Kind.LINK, "imports " + what
                        + ", which the host does not provide (modules: env, " + HostBuilder.WASI + ")");
            }
        }
        // Every export is optional, memory included (tinywasm/wasi loads a header-only module): what needs memory
        // fails later, as an error of this module (HostBuilder, deliver).
    }

    /** Whether the module defines a memory (imported memories are refused by checkImports). */
    private static boolean definesMemory(com.dylibso.chicory.wasm.WasmModule parsed) {
        return parsed.memorySection().isPresent() && parsed.memorySection().get().memoryCount() > 0;
    }

    private static @Nullable MemoryLimits memoryLimits(String name, com.dylibso.chicory.wasm.WasmModule parsed, WasiConfig config) {
        int limitPages = config.maxMemoryPages();
        if (limitPages == 0 || parsed.memorySection().isEmpty() || parsed.memorySection().get().memoryCount() == 0) {
            return null;
        }
        MemoryLimits own = parsed.memorySection().get().getMemory(0).limits();
        if (own.initialPages() > limitPages) {
            throw new WasiModuleException(name, Kind.LINK, "needs " + own.initialPages()
                    + " memory pages at start, more than the limit of " + limitPages + " pages ("
                    + config.maxMemoryBytes() + " bytes)");
        }
        return new MemoryLimits(own.initialPages(), Math.min(own.maximumPages(), limitPages), own.shared());
    }

    /** The exports the host calls, with the types it calls them with: checked at compile time ({@link #checkExports}). */
    private static final Map<String, FunctionType> EXPORT_TYPES = Map.ofEntries(
            Map.entry("malloc", FunctionType.of(List.of(ValType.I32), List.of(ValType.I32))),
            Map.entry("alloc", FunctionType.of(List.of(ValType.I32), List.of(ValType.I32))),
            Map.entry("free", FunctionType.of(List.of(ValType.I32), List.of())),
            Map.entry("on_message", FunctionType.of(List.of(ValType.I32, ValType.I32), List.of())),
            Map.entry("on_topic_message", FunctionType.of(List.of(ValType.I32, ValType.I32, ValType.I32, ValType.I32), List.of())),
            Map.entry("drain", FunctionType.of(List.of(), List.of(ValType.I32))),
            Map.entry("init", FunctionType.of(List.of(), List.of())),
            Map.entry("_start", FunctionType.of(List.of(), List.of())),
            Map.entry("_initialize", FunctionType.of(List.of(), List.of())),
            Map.entry("handle", FunctionType.of(List.of(ValType.I32, ValType.I32), List.of(ValType.I32))),
            Map.entry("handle_http", FunctionType.of(List.of(), List.of(ValType.I32))),
            Map.entry("state_save", FunctionType.of(List.of(), List.of(ValType.I64))),
            Map.entry("state_load", FunctionType.of(List.of(ValType.I32, ValType.I32), List.of())));

    /**
     * Checks the types of the exports the host calls, from the parsed module: what instantiation would refuse, found by
     * {@link #validate} too, which instantiates nothing.
     */
    private static void checkExports(String name, com.dylibso.chicory.wasm.WasmModule parsed) {
        int imported = 0;
        for (int i = 0; i < parsed.importSection().importCount(); i++) {
            if (parsed.importSection().getImport(i).importType() == ExternalType.FUNCTION) {
                imported++;
            }
        }
        ExportSection exports = parsed.exportSection();
        for (int i = 0; i < exports.exportCount(); i++) {
            Export e = exports.getExport(i);
            FunctionType expected = EXPORT_TYPES.get(e.name());
            if (expected == null || e.exportType() != ExternalType.FUNCTION) {
                continue;
            }
            int index = e.index();
            FunctionType actual = index < imported
                    ? parsed.typeSection().getType(((FunctionImport) functionImport(parsed, index)).typeIndex())
                    : parsed.functionSection().getFunctionType(index - imported, parsed.typeSection());
            if (!actual.typesMatch(expected)) {
                throw new WasiModuleException(name, Kind.LINK, "exports " + e.name() + " with type " + actual
                        + ", expected " + expected);
            }
        }
    }

    /** The {@code index}th function import of {@code parsed}. */
    private static Import functionImport(com.dylibso.chicory.wasm.WasmModule parsed, int index) {
        int n = 0;
        for (int i = 0; i < parsed.importSection().importCount(); i++) {
            Import imp = parsed.importSection().getImport(i);
            if (imp.importType() == ExternalType.FUNCTION && n++ == index) {
                return imp;
            }
        }
        throw new IllegalStateException("no function import " + index);
    }

    private @Nullable ExportFunction function(String export) {
        if (!exportsFunction(instance.module(), export)) {
            return null;
        }
        FunctionType expected = Objects.requireNonNull(EXPORT_TYPES.get(export), export);
        FunctionType type = instance.exportType(export);
        if (!type.params().equals(expected.params()) || !type.returns().equals(expected.returns())) {
            throw new WasiModuleException(name, Kind.LINK, "exports " + export + " with type " + type
                    + ", expected " + expected);
        }
        return instance.export(export);
    }

    private static boolean exportsFunction(com.dylibso.chicory.wasm.WasmModule module, String export) {
        ExportSection exports = module.exportSection();
        for (int i = 0; i < exports.exportCount(); i++) {
            Export e = exports.getExport(i);
            if (e.exportType() == ExternalType.FUNCTION && e.name().equals(export)) {
                return true;
            }
        }
        return false;
    }

    private void runStart() {
        ExportFunction entry = start != null ? start : initialize;
        if (entry == null) {
            return;
        }
        String what = start != null ? "_start" : "_initialize";
        try {
            call(what, entry, NO_ARGS);
        } catch (WasiModuleException e) {
            if (e.getCause() instanceof WasiExitException exit && exit.exitCode() == 0) {
                return; // proc_exit(0) is a normal end of start-up; the instance stays usable
            }
            throw e;
        }
    }

    /** Calls the guest's {@code init} export, if any. Its {@code subscribe} calls define the topic set. */
    public void init() {
        if (init != null) {
            call("init", init, NO_ARGS);
        }
    }

    /**
     * Places the payload in guest memory (from {@code malloc}/{@code alloc}), calls {@code on_topic_message}
     * or {@code on_message}, then {@code free} on each buffer if exported.
     *
     * <p>The message is delivered once the handler returns: a {@code free} that fails afterwards does not undo
     * that, so it is returned rather than thrown. Every buffer is freed even if freeing another one failed.
     *
     * <p>The guest calls of one delivery share one timed region of the call watchdog (the call timeout bounds the
     * delivery as a whole): this is the bus's hot path, and each region costs memory fences. The argument arrays
     * are this instance's own, reused: calls into an instance are serialised, and Chicory does not keep them.
     *
     * @return {@code null}, or the error of a {@code free} that failed after the message was delivered
     * @throws WasiModuleException if the message could not be delivered (no memory, no allocator, or the handler
     *     failed); the buffers already placed are freed first
     */
    public @Nullable WasiModuleException deliver(Message message) {
        ExportFunction handler = onTopicMessage != null ? onTopicMessage : onMessage;
        if (handler == null) {
            return null;
        }
        if (memory == null) {
            throw new WasiModuleException(name, Kind.NO_MEMORY,
                    "cannot deliver a message: the module has no memory to receive it in");
        }
        if (malloc == null) {
            throw noAllocator();
        }
        byte[] payload = MessageAccess.payloadArray(message);
        byte[] topic = handler == onTopicMessage ? message.topic().getBytes(StandardCharsets.UTF_8) : null;
        int ptr = 0;
        int topicPtr = 0;
        String step = "malloc";
        guard.begin();
        try {
            ptr = placeInRegion(payload);
            if (topic != null) {
                topicPtr = placeInRegion(topic);
                step = "on_topic_message";
                long[] args = args4;
                args[0] = topicPtr;
                args[1] = topic.length;
                args[2] = ptr;
                args[3] = payload.length;
                handler.apply(args);
            } else {
                step = "on_message";
                long[] args = args2;
                args[0] = ptr;
                args[1] = payload.length;
                handler.apply(args);
            }
            if (free != null) {
                step = "free";
                freeInRegion(ptr);
                ptr = 0;
                freeInRegion(topicPtr);
            }
            guard.end();
            return null;
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            shadowStack.reset(); // a trapped call never pops its frames: the next call must not inherit them
            WasiModuleException failed = classify(name, step, e, guard.end());
            if (step.equals("free")) {
                // delivered: the handler returned; free what is left (the topic's buffer) and report, not throw
                WasiModuleException second = ptr != 0 ? free(0, topicPtr) : null;
                if (second != null) {
                    failed.addSuppressed(second);
                }
                return failed;
            }
            WasiModuleException freeFailed = free(ptr, topicPtr);
            if (freeFailed != null) {
                failed.addSuppressed(freeFailed);
            }
            throw failed;
        } catch (Error e) {
            guard.end();
            throw e;
        }
    }

    /** {@code malloc} and the copy, inside the delivery's timed region. */
    private int placeInRegion(byte[] bytes) {
        long[] args = args1;
        args[0] = bytes.length;
        int ptr = (int) Objects.requireNonNull(malloc, "malloc").apply(args)[0]; // deliver checked it
        checkBuffer(ptr, bytes.length);
        if (bytes.length > 0) {
            Objects.requireNonNull(memory, "memory").write(ptr, bytes); // deliver checked it
        }
        return ptr;
    }

    private void freeInRegion(int ptr) {
        if (ptr != 0) { // free(NULL) is a no-op in C; an empty payload may sit at 0 (malloc(0) returned 0)
            long[] args = args1;
            args[0] = ptr;
            Objects.requireNonNull(free, "free").apply(args); // deliver checked it
        }
    }

    /** Frees both buffers (0 = none); returns the first failure, with a second one suppressed in it. */
    private @Nullable WasiModuleException free(int ptr, int topicPtr) {
        if (free == null) {
            return null;
        }
        WasiModuleException first = freeOne(ptr);
        WasiModuleException second = freeOne(topicPtr);
        if (first == null) {
            return second;
        }
        if (second != null) {
            first.addSuppressed(second);
        }
        return first;
    }

    private @Nullable WasiModuleException freeOne(int ptr) {
        if (ptr == 0) {
            return null; // free(NULL) is a no-op in C; an empty payload may sit at 0 (malloc(0) returned 0)
        }
        try {
            call("free", Objects.requireNonNull(free, "free"), ptr); // free(int, int) checked it
            return null;
        } catch (WasiModuleException e) {
            return e;
        }
    }

    private WasiModuleException noAllocator() {
        return new WasiModuleException(name, Kind.NO_ALLOCATOR,
                "cannot deliver a message: the module exports neither 'malloc' nor 'alloc'");
    }

    private void checkBuffer(int ptr, int length) {
        long end = (ptr & 0xFFFFFFFFL) + length;
        // malloc(0) may return 0 (C allows it, TinyGo does it): an empty payload needs no buffer.
        if ((ptr == 0 && length > 0) || end > (long) Objects.requireNonNull(memory, "memory").pages() * Memory.PAGE_SIZE) {
            throw new WasiModuleException(name, Kind.NO_ALLOCATOR,
                    "malloc(" + length + ") returned " + (ptr & 0xFFFFFFFFL) + ", not a usable buffer");
        }
    }

    /**
     * Polls the guest's {@code drain()} export until it returns 0 or {@code timeout} passes, sleeping the
     * milliseconds it asks for in between. A guest without {@code drain} has nothing in flight.
     *
     * @return whether the guest reported nothing in flight before the timeout; false also if {@code drain}
     *     failed (the failure is logged: a module being replaced or stopped is closed regardless)
     */
    public boolean drain(Duration timeout) {
        if (drain == null) {
            return true;
        }
        if (timeout.isZero() || timeout.isNegative()) {
            return false; // no time left to ask
        }
        try {
            return pollDrain(timeout);
        } catch (WasiModuleException e) {
            log.warn("[{}] drain failed: {}", name, e.getMessage());
            return false;
        }
    }

    private boolean pollDrain(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long wait = call("drain", Objects.requireNonNull(drain, "drain"), NO_ARGS)[0] & 0xFFFFFFFFL; // drain() checked it
            if (wait == 0) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(wait)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    // ---- HTTP ---------------------------------------------------------------------------------------------------

    /** How this version answers HTTP: from its exports. */
    public HttpMode httpMode() {
        return http.mode();
    }

    /**
     * Puts an HTTP request to this instance ({@link HttpExports}).
     *
     * @param middleware whether the module runs as a middleware (a reply of 0 passes the request on) or as the target
     *     (0 is a 204)
     * @param maxResponseSize the largest response body it may produce
     * @param sideErrors errors that did not stop the request (a failed {@code malloc} or {@code free})
     * @throws WasiModuleException if the guest failed (trap, timeout, a bad {@code http_*} call, a response too large)
     */
    public PipelineStep serveHttp(GuestHttpRequest request, boolean middleware, long maxResponseSize,
            Consumer<WasiModuleException> sideErrors) {
        return http.serve(request, middleware, maxResponseSize, sideErrors);
    }

    @Nullable Memory memory() {
        return memory;
    }

    /** The instance's state hand-off exports ({@code state_save}, {@code state_load}). */
    StateExports state() {
        return state;
    }

    @Nullable ExportFunction malloc() {
        return malloc;
    }

    @Nullable ExportFunction free() {
        return free;
    }

    // The same as guarded(), spelled out: this is the per-message path, where a capturing lambda would allocate.
    long[] call(String export, ExportFunction fn, long... args) {
        guard.begin();
        try {
            long[] result = fn.apply(args);
            guard.end();
            return result;
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            shadowStack.reset(); // a trapped call never pops its frames: the next call must not inherit them
            throw classify(name, export, e, guard.end());
        } catch (Error e) {
            guard.end();
            throw e;
        }
    }

    private static <T> T guarded(String name, CallWatchdog.Guard guard, String what, java.util.function.Supplier<T> body) {
        guard.begin();
        try {
            T result = body.get();
            guard.end();
            return result;
        } catch (RuntimeException | StackOverflowError | AssertionError e) {
            throw classify(name, what, e, guard.end());
        } catch (Error e) {
            guard.end();
            throw e;
        }
    }

    private static WasiModuleException classify(String name, String export, Throwable e, int interruptedBy) {
        if (e instanceof WasiModuleException w) {
            return w;
        }
        if (interruptedBy != CallWatchdog.NOT_INTERRUPTED || e instanceof ChicoryInterruptedException) {
            return new WasiModuleException(name, Kind.TIMEOUT, export + " was interrupted" + switch (interruptedBy) {
                case CallWatchdog.CALL_TIMEOUT -> " after exceeding the call timeout";
                case CallWatchdog.DEADLINE -> " at the drain timeout (the module was being loaded, stopped or replaced)";
                default -> "";
            }, e);
        }
        if (e instanceof WasiExitException exit) {
            return new WasiModuleException(name, Kind.EXIT, export + " called proc_exit(" + exit.exitCode() + ")", e);
        }
        if (e instanceof UnlinkableException) {
            return new WasiModuleException(name, Kind.LINK, "cannot be linked: " + e.getMessage(), e);
        }
        if (e instanceof InvalidException || e instanceof MalformedException) {
            return new WasiModuleException(name, Kind.INVALID_MODULE, "not a valid WebAssembly module: " + e.getMessage(), e);
        }
        if (e instanceof UninstantiableException) {
            return new WasiModuleException(name, Kind.LINK, "cannot be instantiated: " + e.getMessage(), e);
        }
        if (e instanceof StackOverflowError) {
            return new WasiModuleException(name, Kind.TRAP, export + " trapped: call stack exhausted", e);
        }
        return new WasiModuleException(name, Kind.TRAP, export + " trapped: " + e.getMessage(), e);
    }

    /**
     * Interrupts the call into this instance still running at {@code nanoTime} ({@link System#nanoTime()}), whichever
     * thread makes it, and every call made after it, until {@link #noDeadline()}: what bounds a swap or an unload
     * whatever the call timeout. Any thread may call it.
     */
    public void interruptAfter(long nanoTime) {
        guard.interruptAfter(nanoTime);
    }

    /** Lifts the deadline of {@link #interruptAfter}: the instance serves again (its replacement failed). */
    public void noDeadline() {
        guard.noDeadline();
    }

    /** Connects this instance's subscriptions to a slot: from now on subscribe/unsubscribe go to it too. */
    public void activate(SubscriptionSink sink) {
        binding.sink = sink;
    }

    /** Disconnects this instance from its slot's subscriptions. */
    public void deactivate() {
        binding.sink = null;
    }

    /** Module name. */
    public String name() {
        return name;
    }

    /** "compiler", "interpreter", or why the compiler was not used. */
    public String engine() {
        return engine;
    }

    /** Topics this instance subscribed to, sorted. */
    public Set<String> topics() {
        return new TreeSet<>(binding.topics);
    }

    /**
     * Whether this instance is subscribed to the topic. Asked for every message delivered, so the last answer is
     * kept: a message of the same topic {@link String} as the one before, with no subscription change since, costs
     * two reads instead of a hash lookup.
     */
    public boolean subscribedTo(String topic) {
        int version = binding.topicsVersion;
        TopicCheck last = lastCheck;
        if (last != null && last.topic == topic && last.version == version) {
            return last.subscribed;
        }
        boolean subscribed = binding.topics.contains(topic);
        lastCheck = new TopicCheck(topic, version, subscribed);
        return subscribed;
    }

    /**
     * One answer of {@link #subscribedTo}: immutable, so a thread that reads it from the unguarded field sees it
     * whole; the version is read before the set, so an answer never outlives the change that would alter it.
     */
    private record TopicCheck(String topic, int version, boolean subscribed) {}

    /** Whether the guest exports an allocator ({@code malloc} or {@code alloc}). */
    public boolean hasAllocator() {
        return malloc != null;
    }

    /** Whether the guest exports a message handler. */
    public boolean hasHandler() {
        return onMessage != null || onTopicMessage != null;
    }

    /** Whether the module has a linear memory (index 0, exported or not); pointers are offsets into it. */
    public boolean hasMemory() {
        return memory != null;
    }

    /** Current linear memory size in bytes; 0 for a module without memory (see {@link #hasMemory()}). */
    public long memoryBytes() {
        return memory != null ? (long) memory.pages() * Memory.PAGE_SIZE : 0;
    }

    @Override
    public void close() {
        binding.sink = null;
        guard.close();
        wasi.close();
    }

    /** Where an active instance's subscribe/unsubscribe calls go, besides its own topic set. */
    public interface SubscriptionSink {
        void subscribe(String topic);

        void unsubscribe(String topic);
    }

    /** The ABI as seen from this instance: its identity is the instance, not a call context. */
    private static final class Binding implements HostApi {
        private final String module;
        private final HostServices services;
        private final Logger guestLog;
        private final Set<String> topics = ConcurrentHashMap.newKeySet();
        /** Bumped after every change of {@code topics}, so that a cached {@link TopicCheck} can tell it is stale. */
        private volatile int topicsVersion;
        private final Capabilities capabilities;
        private volatile @Nullable SubscriptionSink sink;

        Binding(String module, HostServices services, Capabilities capabilities) {
            this.module = module;
            this.services = services;
            this.capabilities = capabilities;
            this.guestLog = HostBuilder.guestLogger(module);
        }

        /** Traps the guest's call (the exception passes through Chicory) if its capabilities refuse it. */
        private void require(Capabilities.Call call, String topic) {
            if (!capabilities.allows(call, topic)) {
                services.denied(call, topic);
                throw new WasiModuleException(module, Kind.DENIED, call.property() + " to topic '" + topic
                        + "' is not allowed (tinywasm.wasi.modules." + module + "." + call.property() + ": "
                        + capabilities.describe(call) + ")");
            }
        }

        @Override
        public void publish(String topic, byte[] payload) {
            require(Capabilities.Call.PUBLISH, topic);
            services.publish(MessageAccess.fromGuest(module, topic, payload, Map.of()));
        }

        @Override
        public void subscribe(String topic) {
            require(Capabilities.Call.SUBSCRIBE, topic);
            if (topics.add(topic)) {
                topicsVersion++; // only the instance's own calls change it, one at a time
                SubscriptionSink s = sink;
                if (s != null) {
                    s.subscribe(topic);
                }
            }
        }

        @Override
        public void unsubscribe(String topic) {
            if (topics.remove(topic)) {
                topicsVersion++;
                SubscriptionSink s = sink;
                if (s != null) {
                    s.unsubscribe(topic);
                }
            }
        }

        @Override
        public void wsBroadcast(String topic, byte[] payload) {
            require(Capabilities.Call.BROADCAST, topic);
            services.broadcast(module, topic, payload);
        }

        @Override
        public void log(String message) {
            guestLog.info("[{}] {}", module, message);
        }
    }
}
