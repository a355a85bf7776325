package io.github.tinywasm.wasi;

import io.github.tinywasm.wasi.bus.JavaSubscription;
import io.github.tinywasm.wasi.bus.SubscriberDrops;
import io.github.tinywasm.wasi.bus.TopicBus;
import io.github.tinywasm.wasi.deploy.CompileCache;
import io.github.tinywasm.wasi.deploy.ModuleDirectoryWatcher;
import io.github.tinywasm.wasi.deploy.ModuleFiles;
import io.github.tinywasm.wasi.http.GuestHttpDispatcher;
import io.github.tinywasm.wasi.module.CallWatchdog;
import io.github.tinywasm.wasi.module.ModuleSlot;
import io.github.tinywasm.wasi.module.SlotContext;
import io.github.tinywasm.wasi.module.WasmModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
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
 * <p>Threads: none at construction. A pool of {@code workerThreads} daemon threads ({@code wasi-worker-N}, a
 * ForkJoinPool in FIFO mode, started on first use, idle threads ending after 30 s) serves the modules' mailboxes; a
 * second pool of the same kind, {@code subscriberThreads} threads ({@code wasi-subscriber-N}), serves the Java
 * subscriptions' mailboxes, so that a slow Java consumer never holds a thread a guest needs. Each module and each Java
 * subscription has one mailbox, so calls into one guest instance (or one consumer) never overlap. While a thread of
 * either pool is blocked on a full mailbox ({@link OverflowPolicy#BLOCK}) its pool adds a thread (up to 256 more), so
 * the consumer it waits for always gets one. {@code wasi-watchdog} interrupts guest calls past the call timeout or a drain
 * deadline (started on demand); {@code wasi-watcher} follows the modules folder after {@link #start()};
 * {@code wasi-stop-NAME} unload modules in parallel during {@link #stop()} and {@link #close()}. Every public method
 * is thread-safe; loads of one module are serialised, loads of different modules may run in parallel.
 * {@link #start()}, {@link #stop()} and {@link #close()} are serialised by this object's monitor, and each of
 * {@code stop()} and {@code close()} returns within the drain timeout plus a few seconds (2 s for {@code stop()},
 * 3 s for {@code close()}).
 */
public final class WasiServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WasiServer.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final String NAME_RULE = "a module name uses letters, digits, '.', '_' and '-', starts with a letter "
            + "or digit and has at most 128 characters (its file adds '.wasm', in lower case)";
    /** Most workers added while others are blocked on full mailboxes. */
    private static final int MAX_COMPENSATING_THREADS = 256;

    /** File extension of modules in the modules folder. */
    public static final String EXTENSION = ModuleFiles.EXTENSION;

    private final WasiConfig config;
    private final WebSocketBroadcaster broadcaster;
    private final TopicBus bus;
    private final ExecutorService executor;
    /** Java subscribers' mailboxes run here, never on the guests' {@code executor}. */
    private final ExecutorService subscriberExecutor;
    private final SubscriberDrops subscriberDrops = new SubscriberDrops();
    private final CallWatchdog watchdog;
    private final BusInterceptor interceptor;
    private final SlotContext slotContext;
    private final CompileCache<WasmModule.Compiled> compileCache;
    private final GuestHttpDispatcher http;
    private final ConcurrentHashMap<String, ModuleSlot> slots = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<WasiListener> listeners = new CopyOnWriteArrayList<>();
    private final WasiListener fanOut = new ListenerFanOut(listeners);
    private final Set<JavaSubscription> javaSubscriptions = ConcurrentHashMap.newKeySet();
    private @Nullable ModuleDirectoryWatcher watcher;
    private @Nullable WatcherTarget watcherTarget;
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
        this.executor = workerPool(config.workerThreads(), "wasi-worker-");
        this.subscriberExecutor = workerPool(config.subscriberThreads(), "wasi-subscriber-");
        this.watchdog = new CallWatchdog(config.callTimeout());
        this.compileCache = new CompileCache<>(config.compileCache());
        this.slotContext = new SlotContext(config, bus, executor, watchdog, broadcaster, fanOut, interceptor, compileCache);
        this.http = new GuestHttpDispatcher(config.http(), slots::get, slots::values);
    }

    // ---- life cycle ---------------------------------------------------------------------------------------

    /**
     * Loads every {@code *.wasm} in the modules folder (a module that fails to load is recorded as FAILED and
     * does not stop the others) and, if configured, starts watching the folder.
     *
     * @throws IllegalStateException if the modules folder is set but is not a readable directory
     */
    public synchronized void start() {
        requireOpen("start");
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
                watcherTarget = new WatcherTarget();
                watcher = new ModuleDirectoryWatcher(watcherTarget, dir, config.watchQuietPeriod(), config.watchPollInterval());
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

    /** What the folder watcher does to this server, until the server stops. */
    private final class WatcherTarget implements ModuleDirectoryWatcher.Target {
        private volatile boolean active = true;

        @Override
        public void load(Path file) {
            if (!active) {
                return;
            }
            try {
                loadFile(file, true);
            } finally {
                if (!active && !running) {
                    // stop() passed while this load ran (and could not unload what it had not yet loaded): undo it
                    String name = ModuleFiles.moduleName(file.getFileName().toString());
                    ModuleSlot slot = slots.get(name);
                    if (slot != null) {
                        log.info("[{}] loaded by the folder watcher after the server stopped: unloading it", name);
                        unloadSlot(slot, System.nanoTime() + config.drainTimeout().toNanos());
                    }
                }
            }
        }

        @Override
        public void unload(String name) {
            if (active) {
                WasiServer.this.unload(name);
            }
        }
    }

    /**
     * Stops watching and unloads every module in parallel: each stops receiving, delivers what it already
     * accepted, drains and closes. Returns within the drain timeout plus twice {@link ModuleSlot#INTERRUPT_GRACE}, whatever
     * the guests do: a guest call still running at the drain timeout is interrupted, even with no call timeout, and
     * messages still queued then are dropped and counted.
     */
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        stopWatching(deadline);
        unloadAll(deadline);
        log.info("WASI server stopped");
    }

    private void stopWatching(long deadline) {
        if (watcher != null && watcherTarget != null) { // set together in start()
            watcherTarget.active = false;
            // Interrupting the watcher ends a guest call it runs; a load it cannot give up is undone when it ends.
            watcher.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            watcher = null;
            watcherTarget = null;
        }
    }

    /** Unloads every slot in parallel, all by {@code deadline}; returns the messages dropped for want of time. */
    private long unloadAll(long deadline) {
        watchdog.interruptAllAfter(deadline); // also ends a load's _start or init still running then
        try {
            List<ModuleSlot> all = new ArrayList<>(slots.values());
            long[] dropped = new long[all.size()];
            List<Thread> stopping = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                ModuleSlot slot = all.get(i);
                int index = i;
                Thread t = new Thread(() -> dropped[index] = unloadSlot(slot, deadline), "wasi-stop-" + slot.name());
                t.setDaemon(true);
                t.start();
                stopping.add(t);
            }
            long joinUntil = deadline + 2 * ModuleSlot.INTERRUPT_GRACE.toNanos(); // unload returns by deadline + grace
            for (Thread t : stopping) {
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinUntil - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                if (t.isAlive()) {
                    log.warn("{} did not finish within the drain timeout; going on without it", t.getName());
                }
            }
            long total = 0;
            for (long d : dropped) { // written by the threads joined above (or 0 for one still running)
                total += Math.max(0, d);
            }
            return total;
        } finally {
            watchdog.clearGlobalDeadline();
        }
    }

    /** {@link #stop()} then {@link #start()}. */
    public synchronized void restart() {
        stop();
        start();
    }

    public boolean isRunning() {
        return running;
    }

    /**
     * Stops the server and releases its threads; it cannot be started again. From the moment it is called,
     * {@link #publish}, {@link #subscribe} and {@link #load} refuse with an {@link IllegalStateException}. Within the
     * drain timeout (plus at most three times {@link ModuleSlot#INTERRUPT_GRACE}) every module is unloaded as by {@link #stop()} and every
     * Java subscriber receives what it already accepted; what cannot be delivered by then is dropped, counted (per
     * module as {@code closed}, per subscription in {@link Subscription#dropped()}) and logged.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            long deadline = System.nanoTime() + config.drainTimeout().toNanos();
            running = false;
            stopWatching(deadline);
            long undelivered = unloadAll(deadline);
            List<JavaSubscription> subscribers = new ArrayList<>(javaSubscriptions);
            long droppedBefore = 0;
            boolean delivered = true;
            for (JavaSubscription s : subscribers) {
                droppedBefore += s.dropped();
                delivered &= s.awaitDelivered(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            for (JavaSubscription s : subscribers) {
                s.closeCounting();
            }
            watchdog.close();
            // Called on one of our own threads (a Java subscriber closing the server), the caller must neither be
            // interrupted by the shutdown nor wait for its own pool to end: it is still running in it.
            boolean onOwnThread = ownThread(executor) || ownThread(subscriberExecutor);
            boolean wasInterrupted = Thread.currentThread().isInterrupted();
            executor.shutdown();
            if (delivered) {
                subscriberExecutor.shutdown();
            } else {
                subscriberExecutor.shutdownNow(); // interrupts a Java subscriber still busy past the drain timeout
                if (onOwnThread && !wasInterrupted) {
                    Thread.interrupted();
                }
            }
            if (!onOwnThread) {
                try {
                    long until = System.nanoTime() + ModuleSlot.INTERRUPT_GRACE.toNanos();
                    if (!executor.awaitTermination(ModuleSlot.INTERRUPT_GRACE.toMillis(), TimeUnit.MILLISECONDS)
                            | !subscriberExecutor.awaitTermination(remaining(until), TimeUnit.NANOSECONDS)) {
                        log.warn("WASI server closed with a worker still busy {} ms past the drain timeout",
                                ModuleSlot.INTERRUPT_GRACE.toMillis());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (JavaSubscription s : subscribers) {
                undelivered += s.dropped();
            }
            undelivered -= droppedBefore;
            if (undelivered > 0) {
                log.warn("WASI server closed: {} accepted message(s) could not be delivered within the drain timeout of {} ms "
                        + "(counted as dropped)", undelivered, config.drainTimeout().toMillis());
            } else {
                log.info("WASI server closed");
            }
        }
    }

    private static boolean ownThread(ExecutorService pool) {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    private void requireOpen(String what) {
        if (closed) {
            throw new IllegalStateException("the WASI server is closed: cannot " + what);
        }
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
        requireOpen("load module '" + name + "'");
        try {
            return ModuleFiles.read(name, file, config.maxModuleSize());
        } catch (WasiModuleException e) {
            throw failed(name, e);
        }
    }

    /** Records a load that failed before there were bytes to load on the module's slot; returns {@code e}. */
    private WasiModuleException failed(String name, WasiModuleException e) {
        while (true) {
            ModuleSlot slot = slots.computeIfAbsent(name, n -> new ModuleSlot(n, slotContext));
            if (slot.loadFailed(e)) {
                return e;
            }
            slots.remove(name, slot); // closed meanwhile: record it on a fresh slot
        }
    }

    /**
     * Reloads a module from the file it was loaded from, or from {@code <modulesDir>/<name>.wasm}, even if the file
     * holds the serving version's bytes (as {@link #reload(String, boolean) reload(name, true)}).
     */
    public ModuleInfo reload(String name) {
        return reload(name, true).module();
    }

    /**
     * Reloads a module from the file it was loaded from, or from {@code <modulesDir>/<name>.wasm}.
     *
     * @param force whether to swap even if the file holds the serving version's bytes; if false, such a reload does
     *     nothing and says so ({@link LoadResult.Outcome#UNCHANGED})
     * @throws WasiModuleException if the file cannot be loaded; the serving version keeps serving
     * @throws IllegalArgumentException if the module has no file and there is no modules folder
     */
    public LoadResult reload(String name, boolean force) {
        Path file = moduleFile(name);
        Path absolute = file.toAbsolutePath().normalize();
        byte[] bytes = read(name, absolute);
        return load(name, bytes, absolute, ModuleFiles.sha256(bytes), force);
    }

    /** The file a module was loaded from, or {@code <modulesDir>/<name>.wasm}. */
    private Path moduleFile(String name) {
        requireName(name);
        ModuleSlot slot = slots.get(name);
        Path file = slot != null ? slot.file() : null;
        if (file == null && config.modulesDir() != null) {
            file = config.modulesDir().resolve(name + EXTENSION);
        }
        if (file == null) {
            throw new IllegalArgumentException("module '" + name + "' was not loaded from a file and there is no modules folder");
        }
        return file;
    }

    /**
     * Loads {@code bytes} as module {@code name}, unless they are the serving version's and {@code force} is false.
     *
     * @return what the load did, and the module's snapshot after it
     * @throws WasiModuleException if the bytes cannot be loaded; an older version keeps serving
     */
    public LoadResult load(String name, byte[] bytes, boolean force) {
        return load(name, bytes, null, ModuleFiles.sha256(bytes), force);
    }

    /**
     * Swaps module {@code name} back to the version its serving one replaced, with the hot-swap protocol (nothing
     * accepted is lost) and the compiled code kept for it (the compiler does not run). A second rollback rolls forward
     * again.
     *
     * @return the module after the rollback
     * @throws java.util.NoSuchElementException if there is no such module
     * @throws IllegalStateException if the module has no previous version
     * @throws WasiModuleException if the previous version fails to start again; the serving version keeps serving
     */
    public LoadResult rollback(String name) {
        requireOpen("roll back module '" + name + "'");
        ModuleSlot slot = slots.get(name);
        LoadResult.Outcome outcome = slot != null ? slot.rollback() : null;
        if (slot == null || outcome == null) {
            throw new java.util.NoSuchElementException("no module named '" + name + "'");
        }
        return new LoadResult(slot.info(), outcome);
    }

    /**
     * Parses, links and compiles the module's file (the one it was loaded from, or {@code <modulesDir>/<name>.wasm})
     * without instantiating it or serving it: what a reload would find wrong with it, before the reload.
     *
     * @throws WasiModuleException if the file cannot be read, parsed, linked or compiled (nothing is recorded on the
     *     module: its serving version is untouched)
     * @throws IllegalArgumentException if the module has no file and there is no modules folder
     */
    public ModuleValidation validate(String name) {
        requireOpen("validate module '" + name + "'");
        Path file = moduleFile(name).toAbsolutePath().normalize();
        byte[] bytes = ModuleFiles.read(name, file, config.maxModuleSize());
        String sha = ModuleFiles.sha256(bytes);
        String engine = WasmModule.validate(name, bytes, sha, config, compileCache);
        ModuleInfo serving = module(name).orElse(null);
        return new ModuleValidation(name, sha, bytes.length, engine, serving != null && sha.equals(serving.sha256()));
    }

    private ModuleInfo load(String name, byte[] bytes, @Nullable Path file) {
        return load(name, bytes, file, ModuleFiles.sha256(bytes));
    }

    private ModuleInfo load(String name, byte[] bytes, @Nullable Path file, String sha) {
        return load(name, bytes, file, sha, true).module();
    }

    private LoadResult load(String name, byte[] bytes, @Nullable Path file, String sha, boolean force) {
        requireName(name);
        requireOpen("load module '" + name + "'");
        while (true) {
            ModuleSlot slot = slots.computeIfAbsent(name, n -> new ModuleSlot(n, slotContext));
            LoadResult.Outcome outcome = slot.load(bytes, file, sha, force);
            if (outcome != null) {
                if (closed) {
                    // close() ran meanwhile and may have missed this slot: it must not outlive the server
                    unloadSlot(slot, System.nanoTime() + config.drainTimeout().toNanos());
                    throw new IllegalStateException("the WASI server was closed while module '" + name + "' was loading");
                }
                return new LoadResult(slot.info(), outcome);
            }
            slots.remove(name, slot); // closed while we waited: start over with a fresh slot
            requireOpen("load module '" + name + "'");
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
        if (unloadSlot(slot, System.nanoTime() + config.drainTimeout().toNanos()) < 0) {
            throw new IllegalStateException("module '" + name + "' was not unloaded: a load or swap of it still runs past "
                    + "the drain timeout of " + config.drainTimeout().toMillis() + " ms");
        }
        return true;
    }

    /** Unloads a slot by {@code deadline}; returns the messages it dropped for want of time, or -1 if it could not. */
    private long unloadSlot(ModuleSlot slot, long deadline) {
        long before = slot.droppedClosed();
        if (!slot.unload(deadline)) {
            return -1;
        }
        slots.remove(slot.name(), slot);
        return slot.droppedClosed() - before;
    }

    /**
     * Reacts to a change in the modules folder, as tinywasm/wasi's {@code NewFileEvent}: {@code create},
     * {@code write} and {@code rename} (to this name) load or swap the module, {@code remove} (or a rename
     * away) unloads it. Files whose extension is not exactly {@code .wasm} (lower case) are ignored.
     *
     * @param fileName the file's name, e.g. {@code users.wasm}
     * @param extension the file's extension with its dot, e.g. {@code .wasm}
     * @param path the file's path
     * @param event {@code create}, {@code write}, {@code remove} or {@code rename}
     * @throws WasiModuleException if the module cannot be loaded (an older version keeps serving)
     */
    public void newFileEvent(String fileName, String extension, String path, String event) {
        if (!EXTENSION.equals(extension)) {
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
        if (!NAME.matcher(name).matches()) {
            // Not loadable, but never a silent skip: a FAILED module under the file's name says why (and goes away
            // with the file).
            requireOpen("load module file " + file.getFileName());
            throw failed(name, new WasiModuleException(name, WasiModuleException.Kind.NAME, "file '" + file.getFileName()
                    + "' in the modules folder is not loaded: its name is not a module name; " + NAME_RULE));
        }
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

    /**
     * Publishes a message to every subscriber of its topic. Never runs a guest on the calling thread.
     *
     * @throws IllegalStateException once {@link #close()} has been called
     */
    public void publish(Message message) {
        if (closed) {
            requireOpen("publish on topic '" + message.topic() + "'");
        }
        bus.publish(message);
    }

    /** Publishes {@code payload} (copied) on {@code topic}; see {@link #publish(Message)}. */
    public void publish(String topic, byte[] payload) {
        publish(Message.of(topic, payload));
    }

    /** Publishes the UTF-8 bytes of {@code text} on {@code topic}; see {@link #publish(Message)}. */
    public void publish(String topic, String text) {
        publish(Message.of(topic, text));
    }

    /**
     * Subscribes a Java consumer to {@code topic}; it runs on a thread of the subscribers' pool ({@code
     * subscriberThreads} threads, {@code wasi-subscriber-N}, apart from the guests' workers), one message at a time, in
     * publish order. Messages wait in its own mailbox ({@code mailboxCapacity}, {@code overflowPolicy}); those it drops
     * are counted in {@link Subscription#dropped()} and {@link #subscriberDrops()}.
     *
     * @throws IllegalStateException once {@link #close()} has been called
     */
    public Subscription subscribe(String topic, Consumer<Message> consumer) {
        Message.requireTopic(topic);
        requireOpen("subscribe to topic '" + topic + "'");
        JavaSubscription[] self = new JavaSubscription[1];
        self[0] = new JavaSubscription(topic, consumer, config, subscriberExecutor, interceptor, subscriberDrops, () -> {
            bus.unsubscribe(topic, self[0]);
            javaSubscriptions.remove(self[0]);
        });
        javaSubscriptions.add(self[0]);
        bus.subscribe(topic, self[0]);
        return self[0];
    }

    /** Subscribes a Java consumer to every topic, guests' and Java's alike; see {@link #subscribe}. */
    public Subscription subscribeAll(Consumer<Message> consumer) {
        requireOpen("subscribe to every topic");
        JavaSubscription[] self = new JavaSubscription[1];
        self[0] = new JavaSubscription("*", consumer, config, subscriberExecutor, interceptor, subscriberDrops, () -> {
            bus.unsubscribeAll(self[0]);
            javaSubscriptions.remove(self[0]);
        });
        javaSubscriptions.add(self[0]);
        bus.subscribeAll(self[0]);
        return self[0];
    }

    /**
     * Messages dropped for Java subscribers (the event bridge included) since the server was made, by reason:
     * {@link DropReason#MAILBOX_FULL} and {@link DropReason#CLOSED}. A module's drops are in its {@link ModuleCounters}.
     */
    public java.util.Map<DropReason, Long> subscriberDrops() {
        return subscriberDrops.snapshot();
    }

    /** Topics with at least one subscriber (module or Java), sorted. */
    public Set<String> topics() {
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

    /**
     * What the compile cache did so far: how often the compiler ran, and how often a load, a rollback or a restart
     * found the version compiled in memory or on disk instead ({@code tinywasm.wasi.cache-dir}).
     */
    public CompileCache.Stats compileCacheStats() {
        return compileCache.stats();
    }

    /**
     * HTTP to guests: answers a request with the module it names and its middlewares (tinywasm/wasi's {@code /m/{name}}).
     * Web stacks adapt their requests to it; see {@link GuestHttpDispatcher}.
     */
    public GuestHttpDispatcher http() {
        return http;
    }






    // ---- helpers ---------------------------------------------------------------------------------------------

    /**
     * The worker pool: {@code threads} workers, plus one more for each worker blocked on a full mailbox (up to
     * {@value #MAX_COMPENSATING_THREADS}), so that a blocked publisher never holds the worker its consumer needs (see
     * {@link io.github.tinywasm.wasi.bus.Mailbox}). A ForkJoinPool in FIFO (async) mode starts no thread until the
     * first task, and lets idle workers go after 30 s.
     */
    private static ForkJoinPool workerPool(int threads, String prefix) {
        AtomicInteger n = new AtomicInteger();
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        ForkJoinPool.ForkJoinWorkerThreadFactory factory = pool -> {
            ForkJoinWorkerThread t = new ForkJoinWorkerThread(pool) {};
            t.setName(prefix + n.incrementAndGet());
            t.setDaemon(true);
            t.setContextClassLoader(loader); // as a plain thread started by the application would have
            return t;
        };
        // saturate -> true: past the limit a blocked publisher blocks without a spare thread (and may time out).
        return new ForkJoinPool(threads, factory, null, true, 0, threads + MAX_COMPENSATING_THREADS, threads,
                pool -> true, 30, TimeUnit.SECONDS);
    }

    private static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid module name '" + name + "': " + NAME_RULE);
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
        public void moduleRolledBack(String module, boolean automatic, String fromSha256, String toSha256, String reason) {
            each(l -> l.moduleRolledBack(module, automatic, fromSha256, toSha256, reason));
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
