package io.github.tinywasm.wasi;

import io.github.tinywasm.wasi.bus.JavaSubscription;
import io.github.tinywasm.wasi.bus.TopicBus;
import io.github.tinywasm.wasi.deploy.ModuleDirectoryWatcher;
import io.github.tinywasm.wasi.deploy.ModuleFiles;
import io.github.tinywasm.wasi.module.CallWatchdog;
import io.github.tinywasm.wasi.module.ModuleSlot;
import io.github.tinywasm.wasi.module.SlotContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hosts WebAssembly modules in named slots, connects them to a topic bus, and keeps them in step with a
 * modules folder.
 *
 * <pre>{@code
 * try (WasiServer server = new WasiServer(WasiConfig.builder().modulesDir(Path.of("modules")).build())) {
 *     server.start();                                  // loads modules/*.wasm, watches the folder
 *     server.subscribe("replies", m -> System.out.println(m.payloadAsString()));
 *     server.publish("requests", "hello");             // delivered to every guest subscribed to "requests"
 * }
 * }</pre>
 *
 * <p>Threads: a fixed pool of {@code workerThreads} daemon threads ({@code wasi-worker-N}) serves every
 * mailbox; each module and each Java subscription has one mailbox, so calls into one guest instance never
 * overlap. {@code wasi-watchdog} interrupts guest calls past the call timeout; {@code wasi-watcher} follows
 * the modules folder. Every public method is thread-safe; loads of one module are serialised, loads of
 * different modules may run in parallel. {@link #start()} and {@link #stop()} are serialised by this
 * object's monitor.
 */
public final class WasiServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WasiServer.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** File extension of modules in the modules folder. */
    public static final String EXTENSION = ModuleFiles.EXTENSION;

    private final WasiConfig config;
    private final WebSocketBroadcaster broadcaster;
    private final TopicBus bus;
    private final ExecutorService executor;
    private final CallWatchdog watchdog;
    private final BusInterceptor interceptor;
    private final SlotContext slotContext;
    private final ConcurrentHashMap<String, ModuleSlot> slots = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<WasiListener> listeners = new CopyOnWriteArrayList<>();
    private final WasiListener fanOut = new ListenerFanOut(listeners);
    private ModuleDirectoryWatcher watcher;
    private volatile boolean running;
    private volatile boolean closed;

    /** A server with no WebSocket broadcaster. */
    public WasiServer(WasiConfig config) {
        this(config, WebSocketBroadcaster.NONE);
    }

    /** A server whose guests' {@code ws_broadcast} calls go to {@code broadcaster}. */
    public WasiServer(WasiConfig config, WebSocketBroadcaster broadcaster) {
        this(config, broadcaster, BusInterceptor.NONE);
    }

    /**
     * A server whose guests' {@code ws_broadcast} calls go to {@code broadcaster} and whose deliveries pass
     * through {@code interceptor} (for observations and trace propagation).
     */
    public WasiServer(WasiConfig config, WebSocketBroadcaster broadcaster, BusInterceptor interceptor) {
        this.config = Objects.requireNonNull(config, "config");
        this.broadcaster = Objects.requireNonNull(broadcaster, "broadcaster");
        this.interceptor = Objects.requireNonNull(interceptor, "interceptor");
        this.bus = new TopicBus(interceptor);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 30,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "wasi-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.executor = pool;
        this.watchdog = new CallWatchdog(config.callTimeout());
        this.slotContext = new SlotContext(config, bus, executor, watchdog, broadcaster, fanOut, interceptor);
    }

    // ---- life cycle ---------------------------------------------------------------------------------------

    /**
     * Loads every {@code *.wasm} in the modules folder (a module that fails to load is recorded as FAILED and
     * does not stop the others) and, if configured, starts watching the folder.
     *
     * @throws IllegalStateException if the modules folder is set but is not a readable directory
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        if (running) {
            return;
        }
        Path dir = config.modulesDir();
        if (dir != null) {
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("modules folder " + dir.toAbsolutePath() + " does not exist or is not a directory");
            }
            // Register for changes before the first scan, so that a file written meanwhile is not missed.
            if (config.watch()) {
                watcher = new ModuleDirectoryWatcher(new ModuleDirectoryWatcher.Target() {
                    @Override
                    public void load(Path file) {
                        loadFile(file, true);
                    }

                    @Override
                    public void unload(String name) {
                        WasiServer.this.unload(name);
                    }
                }, dir, config.watchQuietPeriod(), config.watchPollInterval());
            }
            for (Path file : ModuleFiles.list(dir)) {
                try {
                    loadFile(file, false);
                } catch (WasiModuleException e) {
                    // recorded on the slot and logged by it
                } catch (RuntimeException | Error e) {
                    log.error("[{}] cannot load {}: {}", ModuleFiles.moduleName(file.getFileName().toString()),
                            file.getFileName(), e.toString(), e);
                }
            }
            if (watcher != null) {
                watcher.start();
            }
        }
        running = true;
        log.info("WASI server started: {} module(s){}", slots.size(),
                dir != null ? " from " + dir.toAbsolutePath() + (config.watch() ? ", watching for changes" : "") : "");
    }

    /**
     * Stops watching and unloads every module in parallel: each stops receiving, delivers what it already
     * accepted, drains and closes, within the drain timeout.
     */
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        List<Thread> stopping = new ArrayList<>();
        for (ModuleSlot slot : slots.values()) {
            Thread t = new Thread(() -> unloadSlot(slot), "wasi-stop-" + slot.name());
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log.info("WASI server stopped");
    }

    /** {@link #stop()} then {@link #start()}. */
    public synchronized void restart() {
        stop();
        start();
    }

    public boolean isRunning() {
        return running;
    }

    /** Stops the server and releases its threads. The server cannot be started again. */
    @Override
    public synchronized void close() {
        stop();
        for (ModuleSlot slot : slots.values()) {
            unloadSlot(slot);
        }
        closed = true;
        watchdog.close();
        executor.shutdown();
    }

    // ---- modules --------------------------------------------------------------------------------------------

    /**
     * Loads {@code bytes} as module {@code name}: the first version, or a hot swap of the serving one.
     *
     * @return the module's snapshot after the load
     * @throws WasiModuleException if the bytes cannot be loaded; an older version keeps serving
     */
    public ModuleInfo load(String name, byte[] bytes) {
        return load(name, bytes, null);
    }

    /** Loads module {@code name} from {@code file}; see {@link #load(String, byte[])}. */
    public ModuleInfo load(String name, Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        return load(name, read(name, absolute), absolute);
    }

    /** Reads a module's file; a failure is a failed load of that module, recorded on its slot, then thrown. */
    private byte[] read(String name, Path file) {
        requireName(name);
        try {
            return ModuleFiles.read(name, file, config.maxModuleSize());
        } catch (WasiModuleException e) {
            while (true) {
                ModuleSlot slot = slots.computeIfAbsent(name, n -> new ModuleSlot(n, slotContext));
                if (slot.loadFailed(e)) {
                    throw e;
                }
                slots.remove(name, slot); // closed meanwhile: record it on a fresh slot
            }
        }
    }

    /** Reloads a module from the file it was loaded from, or from {@code <modulesDir>/<name>.wasm}. */
    public ModuleInfo reload(String name) {
        ModuleSlot slot = slots.get(name);
        Path file = slot != null ? slot.file() : null;
        if (file == null && config.modulesDir() != null) {
            file = config.modulesDir().resolve(name + EXTENSION);
        }
        if (file == null) {
            throw new IllegalArgumentException("module '" + name + "' was not loaded from a file and there is no modules folder");
        }
        return load(name, file);
    }

    private ModuleInfo load(String name, byte[] bytes, Path file) {
        return load(name, bytes, file, ModuleFiles.sha256(bytes));
    }

    private ModuleInfo load(String name, byte[] bytes, Path file, String sha) {
        requireName(name);
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        while (true) {
            ModuleSlot slot = slots.computeIfAbsent(name, n -> new ModuleSlot(n, slotContext));
            if (slot.load(bytes, file, sha)) {
                return slot.info();
            }
            slots.remove(name, slot); // closed while we waited: start over with a fresh slot
        }
    }

    /**
     * Unloads a module: it stops receiving, delivers what it already accepted, drains and closes.
     *
     * @return whether there was such a module
     */
    public boolean unload(String name) {
        ModuleSlot slot = slots.get(name);
        if (slot == null) {
            return false;
        }
        unloadSlot(slot);
        return true;
    }

    private void unloadSlot(ModuleSlot slot) {
        slot.unload();
        slots.remove(slot.name(), slot);
    }

    /**
     * Reacts to a change in the modules folder, as tinywasm/wasi's {@code NewFileEvent}: {@code create},
     * {@code write} and {@code rename} (to this name) load or swap the module, {@code remove} (or a rename
     * away) unloads it. Files whose extension is not {@code .wasm} are ignored.
     *
     * @param fileName the file's name, e.g. {@code users.wasm}
     * @param extension the file's extension with its dot, e.g. {@code .wasm}
     * @param path the file's path
     * @param event {@code create}, {@code write}, {@code remove} or {@code rename}
     * @throws WasiModuleException if the module cannot be loaded (an older version keeps serving)
     */
    public void newFileEvent(String fileName, String extension, String path, String event) {
        if (!EXTENSION.equalsIgnoreCase(extension)) {
            return;
        }
        Path file = Path.of(path);
        String name = ModuleFiles.moduleName(file.getFileName() != null ? file.getFileName().toString() : fileName);
        switch (event.toLowerCase(Locale.ROOT)) {
            case "create", "write", "rename" -> {
                if (Files.isRegularFile(file)) {
                    loadFile(file, true);
                } else {
                    unload(name);
                }
            }
            case "remove", "delete" -> unload(name);
            default -> throw new IllegalArgumentException("unknown file event '" + event + "' (create, write, remove, rename)");
        }
    }

    /**
     * Loads {@code file} unless the module already serves the same bytes.
     *
     * @return whether the module was (re)loaded
     */
    boolean loadFile(Path path, boolean skipUnchanged) {
        Path file = path.toAbsolutePath().normalize();
        String name = ModuleFiles.moduleName(file.getFileName().toString());
        byte[] bytes = read(name, file);
        ModuleSlot slot = slots.get(name);
        String sha = ModuleFiles.sha256(bytes);
        if (skipUnchanged && slot != null && sha.equals(slot.attemptedSha256())) {
            return false; // same bytes as the last attempt: serving already, or would fail the same way
        }
        load(name, bytes, file, sha);
        return true;
    }

    /** Snapshot of every module, sorted by name. */
    public List<ModuleInfo> modules() {
        return slots.values().stream().map(ModuleSlot::info).sorted(Comparator.comparing(ModuleInfo::name)).toList();
    }

    /** Snapshot of one module. */
    public Optional<ModuleInfo> module(String name) {
        ModuleSlot slot = slots.get(name);
        return slot != null ? Optional.of(slot.info()) : Optional.empty();
    }

    // ---- bus ----------------------------------------------------------------------------------------------

    /** Publishes a message to every subscriber of its topic. Never runs a guest on the calling thread. */
    public void publish(Message message) {
        bus.publish(message);
    }

    /** Publishes {@code payload} (copied) on {@code topic}. */
    public void publish(String topic, byte[] payload) {
        bus.publish(Message.of(topic, payload));
    }

    /** Publishes the UTF-8 bytes of {@code text} on {@code topic}. */
    public void publish(String topic, String text) {
        bus.publish(Message.of(topic, text));
    }

    /** Subscribes a Java consumer to {@code topic}; it runs on a pool thread, in publish order. */
    public Subscription subscribe(String topic, Consumer<Message> consumer) {
        Message.requireTopic(topic);
        JavaSubscription[] self = new JavaSubscription[1];
        self[0] = new JavaSubscription(topic, consumer, config, executor, interceptor, () -> bus.unsubscribe(topic, self[0]));
        bus.subscribe(topic, self[0]);
        return self[0];
    }

    /** Subscribes a Java consumer to every topic, guests' and Java's alike. */
    public Subscription subscribeAll(Consumer<Message> consumer) {
        JavaSubscription[] self = new JavaSubscription[1];
        self[0] = new JavaSubscription("*", consumer, config, executor, interceptor, () -> bus.unsubscribeAll(self[0]));
        bus.subscribeAll(self[0]);
        return self[0];
    }

    /** Topics with at least one subscriber (module or Java), sorted. */
    public java.util.Set<String> topics() {
        return bus.topics();
    }

    /** Messages published on the bus so far, by guests and Java. */
    public long publishedCount() {
        return bus.publishedCount();
    }

    // ---- listeners and accessors ------------------------------------------------------------------------------

    public void addListener(WasiListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(WasiListener listener) {
        listeners.remove(listener);
    }

    public WasiConfig config() {
        return config;
    }






    // ---- helpers ---------------------------------------------------------------------------------------------

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid module name '" + name
                    + "': use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128 characters");
        }
    }

    /** Calls every listener, isolating them from each other's failures. */
    private record ListenerFanOut(List<WasiListener> listeners) implements WasiListener {
        @Override
        public void moduleLoaded(String module, boolean swap, Duration took) {
            each(l -> l.moduleLoaded(module, swap, took));
        }

        @Override
        public void moduleLoadFailed(String module, boolean swap, Duration took, WasiModuleException error) {
            each(l -> l.moduleLoadFailed(module, swap, took, error));
        }

        @Override
        public void moduleUnloaded(String module) {
            each(l -> l.moduleUnloaded(module));
        }

        @Override
        public void guestError(String module, WasiModuleException error) {
            each(l -> l.guestError(module, error));
        }

        private void each(Consumer<WasiListener> call) {
            for (WasiListener l : listeners) {
                try {
                    call.accept(l);
                } catch (RuntimeException e) {
                    log.warn("WASI listener {} failed: {}", l, e.toString());
                }
            }
        }
    }
}
