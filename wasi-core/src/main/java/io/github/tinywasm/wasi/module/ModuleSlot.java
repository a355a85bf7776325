package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.LoadResult;
import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.ModuleCounters;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.ModuleState;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.bus.Mailbox;
import io.github.tinywasm.wasi.bus.TopicBus;
import io.github.tinywasm.wasi.deploy.Probation;
import io.github.tinywasm.wasi.deploy.VersionHistory;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.HttpConfig;
import io.github.tinywasm.wasi.http.HttpInfo;
import io.github.tinywasm.wasi.http.HttpMiddleware;
import io.github.tinywasm.wasi.http.HttpMode;
import io.github.tinywasm.wasi.http.HttpRule;
import io.github.tinywasm.wasi.http.PipelineStep;
import io.github.tinywasm.wasi.policy.Capabilities;
import io.github.tinywasm.wasi.policy.DeadLetters;
import io.github.tinywasm.wasi.policy.HttpAccess;
import io.github.tinywasm.wasi.policy.Quarantine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A named module slot ({@code users} for {@code users.wasm}): the serving {@link WasmModule}, its mailbox,
 * its bus subscriptions and its counters. Loading a new version follows the hot-swap protocol: compile while
 * the old version serves, pause the mailbox, drain the old instance, {@code init} the new one, commit.
 *
 * <p>HTTP requests ({@link #http}) queue in the same mailbox as the bus's messages, so they reach the same instance in
 * one order with them, and go to the new version after a swap like a queued message. With {@code http.pool-size} N > 1,
 * N - 1 extra instances of the serving version answer requests too, on lanes of their own ({@link HttpPool}); they are
 * made, drained and replaced with the serving instance. The version's middleware rule (configured, or its
 * {@code rule.txt}) is read at every load and committed with it.
 *
 * <p>Threads and locks: {@code swapLock} serialises load, swap and unload of this slot (callers: the
 * watcher, the application, the actuator). The mailbox worker is the only thread that calls into the serving
 * instance, except while the mailbox is paused, when the thread holding {@code swapLock} may. {@code current}
 * is volatile and written only under {@code swapLock} with the mailbox paused or empty. The slot's subscriptions on
 * the bus ({@code busTopics}) are changed only under their own monitor, by the commit, by the unload and by the
 * serving instance's {@code subscribe}/{@code unsubscribe} (on whichever thread runs it): so a subscribe racing an
 * unload either is undone by it or finds the slot closed to subscriptions. Counters are {@link LongAdder}s, readable
 * from any thread.
 *
 * <p>Versions: the slot keeps the version its serving one replaced, compiled ({@link VersionHistory}), for
 * {@link #rollback()}; a new version is on {@link Probation} after a swap, and the worker whose guest call makes it
 * fail too often starts a {@code wasi-rollback-NAME} thread that rolls back under {@code swapLock} like any swap (the
 * worker cannot: it is inside the call the swap's pause waits for). The new version's {@code init} runs within the
 * drain timeout whatever the call timeout.
 */
public final class ModuleSlot implements TopicBus.Subscriber, Mailbox.Handler, WasmModule.SubscriptionSink, HostServices {

    private static final Logger log = LoggerFactory.getLogger(ModuleSlot.class);
    private static final long DROP_WARN_INTERVAL = TimeUnit.SECONDS.toNanos(10);

    /**
     * Where the serving version came from, and its middleware rule.
     *
     * @param middleware the version's middleware rule, or {@code null} when it is a target
     * @param ruleSource where the rule comes from, or {@code null}
     */
    private record Version(@Nullable Path file, String sha256, long size, Instant loadedAt,
            @Nullable HttpMiddleware middleware, @Nullable String ruleSource) {}

    /** Largest {@code rule.txt} read. */
    private static final int MAX_RULE_FILE = 64 * 1024;

    private final String name;
    /** MDC key holding the module's name while the slot runs its guest or changes its version. */
    public static final String MDC_KEY = "wasi.module";
    /** How long past a deadline a swap or unload waits for an interrupted guest call to end before going on without it. */
    public static final Duration INTERRUPT_GRACE = Duration.ofSeconds(1);

    private final SlotContext context;
    private final WasiConfig config;
    private final Mailbox mailbox;
    private final ReentrantLock swapLock = new ReentrantLock();

    private volatile @Nullable WasmModule current;
    private volatile @Nullable Version version;
    private volatile ModuleState state = ModuleState.LOADING;
    private volatile @Nullable String lastError;
    private volatile @Nullable Instant lastErrorAt;
    private volatile boolean lastLoadFailed;
    private volatile long lastDropWarn;
    private volatile @Nullable String attemptedSha256;
    /** The serving version and the one it replaced, with their compiled code; changed under {@code swapLock}. */
    private final VersionHistory<WasmModule.Compiled> versions = new VersionHistory<>();
    /** The serving version's probation after a swap: started and ended under {@code swapLock}, fed by the workers. */
    private final Probation probation;

    private final LongAdder published = new LongAdder();
    private final LongAdder broadcasts = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    /*
     * The batch in progress (the mailbox's worker only): items that were not a guest call for a message (drops, HTTP
     * work) and message calls that failed. Counted by exception, so that a healthy message writes nothing here: these
     * fields may share a cache line with what publishers read on every offer, and a write per message would pull that
     * line back and forth between the two cores. delivered and calls are worked out once per batch (batchDone).
     */
    private int notCalledInBatch;
    private int failedInBatch;
    private final LongAdder errors = new LongAdder();
    private final LongAdder traps = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder calls = new LongAdder();
    private final LongAdder callNanos = new LongAdder();
    private final LongAdder swaps = new LongAdder();
    private final LongAdder failedLoads = new LongAdder();
    private final LongAdder rollbacks = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder deadLettered = new LongAdder();
    /** Where messages it fails on go; immutable. */
    private final DeadLetters deadLetters;
    /** Its failures in a row, and whether it is quarantined: fed by the workers, lifted by a commit. */
    private final Quarantine quarantine;
    private final LongAdder httpRequests = new LongAdder();
    private final LongAdder httpErrors = new LongAdder();
    private final LongAdder httpRejected = new LongAdder();
    private final HttpPool pool;
    private final Map<DropReason, LongAdder> dropped = new EnumMap<>(DropReason.class);
    /** Topics the slot is subscribed to on the bus; guarded by itself, as is {@code acceptingSubscriptions}. */
    private final Set<String> busTopics = new HashSet<>();
    /** False before the first commit and from the start of unload: the bus gets no subscription of the slot. */
    private boolean acceptingSubscriptions;

    public ModuleSlot(String name, SlotContext context) {
        this.name = name;
        this.context = context;
        this.config = context.config();
        this.probation = new Probation(config.probation().probation(), config.probation().maxTraps());
        this.deadLetters = new DeadLetters(config.poison().deadLetterTopic());
        this.quarantine = new Quarantine(config.poison().quarantineAfter());
        this.mailbox = new Mailbox(config.mailboxCapacity(), context.executor(), this);
        this.pool = new HttpPool(this, mailbox, config.http().poolSize(name), config.mailboxCapacity(), context.executor());
        for (DropReason r : DropReason.values()) {
            dropped.put(r, new LongAdder());
        }
    }

    public String name() {
        return name;
    }

    // ---- load, swap, unload -------------------------------------------------------------------------------

    /**
     * Loads {@code bytes} as the slot's new version (first load or hot swap). On failure the previous
     * version, if any, keeps serving and the error is recorded and rethrown.
     *
     * @return false if the slot was already closed (the caller makes a new slot)
     */
    public boolean load(byte[] bytes, @Nullable Path file, String sha256) {
        return load(bytes, file, sha256, true) != null;
    }

    /**
     * Loads {@code bytes} as the slot's new version (first load or hot swap), unless they are the serving version's
     * and {@code force} is false. On failure the previous version, if any, keeps serving and the error is recorded
     * and rethrown.
     *
     * @return what the load did, or {@code null} if the slot was already closed (the caller makes a new slot)
     */
    public LoadResult.@Nullable Outcome load(byte[] bytes, @Nullable Path file, String sha256, boolean force) {
        swapLock.lock();
        MDC.put(MDC_KEY, name);
        try {
            if (state == ModuleState.CLOSED || state == ModuleState.UNLOADING) {
                return null;
            }
            attemptedSha256 = sha256;
            VersionHistory.Entry<WasmModule.Compiled> serving = versions.serving();
            if (!force && current != null && serving != null && serving.sha256().equals(sha256) && !quarantine.active()) {
                log.info("[{}] unchanged: {} is the serving version (sha256 {}); not reloaded", name,
                        file != null ? file.getFileName() : "the bytes", sha256.substring(0, 12));
                return LoadResult.Outcome.UNCHANGED;
            }
            long t0 = System.nanoTime();
            WasmModule.Compiled compiled;
            try {
                compiled = WasmModule.compile(name, bytes, config, context.compileCache(), sha256);
            } catch (WasiModuleException e) {
                loadFailed(e, current != null, t0);
                throw e;
            }
            boolean swap = current != null;
            install(new VersionHistory.Entry<>(sha256, bytes.length, file, compiled), t0, "");
            return swap ? LoadResult.Outcome.SWAPPED : LoadResult.Outcome.LOADED;
        } finally {
            MDC.remove(MDC_KEY);
            swapLock.unlock();
        }
    }

    /**
     * Swaps back to the version the serving one replaced, with the same protocol as any swap (and its compiled code:
     * the compiler does not run). On failure the serving version keeps serving and the error is recorded and rethrown.
     *
     * @return {@link LoadResult.Outcome#ROLLED_BACK}, or {@code null} if the slot was already closed
     * @throws IllegalStateException if there is no previous version to roll back to
     */
    public LoadResult.@Nullable Outcome rollback() {
        swapLock.lock();
        MDC.put(MDC_KEY, name);
        try {
            if (state == ModuleState.CLOSED || state == ModuleState.UNLOADING) {
                return null;
            }
            VersionHistory.Entry<WasmModule.Compiled> previous = versions.previous();
            VersionHistory.Entry<WasmModule.Compiled> serving = versions.serving();
            if (previous == null || serving == null || current == null) {
                throw new IllegalStateException("module '" + name + "' has no previous version to roll back to");
            }
            String from = serving.sha256();
            install(previous, System.nanoTime(), "rolled back to ");
            rollbacks.increment();
            context.listeners().moduleRolledBack(name, false, from, previous.sha256(), "asked for");
            return LoadResult.Outcome.ROLLED_BACK;
        } finally {
            MDC.remove(MDC_KEY);
            swapLock.unlock();
        }
    }

    /** Whether the slot has a previous version to roll back to. */
    public boolean hasPrevious() {
        return versions.previous() != null;
    }

    /**
     * Instantiates {@code entry} and makes it the serving version with the swap protocol (pause, drain, init, commit);
     * the caller holds {@code swapLock}. On failure the serving version, if any, keeps serving; the error is recorded
     * and rethrown.
     */
    private void install(VersionHistory.Entry<WasmModule.Compiled> entry, long t0, String verb) {
        WasmModule old = current;
        List<WasmModule> oldExtras = pool.instances();
        boolean swap = old != null;
        WasmModule next;
        List<WasmModule> extras;
        // With no call timeout, a first load's _start still gets one drain timeout (its init gets one in any case, see
        // initBounded): one that loops must not hold start() or the folder watcher forever.
        @Nullable Long firstLoadDeadline = !swap && config.callTimeout().isZero()
                ? System.nanoTime() + config.drainTimeout().toNanos() : null;
        try {
            next = WasmModule.instantiate(entry.compiled(), config, this, context.watchdog(), firstLoadDeadline);
            extras = instantiateExtras(entry.compiled(), next);
        } catch (WasiModuleException e) {
            loadFailed(e, swap, t0);
            throw e;
        }
        Version nextVersion = version(entry.file(), entry.sha256(), entry.size());
        boolean idle = true;
        try {
            if (old != null) {
                state = ModuleState.SWAPPING;
                // The old version gets the drain timeout for the message in hand and its drain(), whatever the
                // call timeout: a call still running at the deadline is interrupted.
                long deadline = System.nanoTime() + config.drainTimeout().toNanos();
                old.interruptAfter(deadline);
                oldExtras.forEach(x -> x.interruptAfter(deadline));
                idle = mailbox.pause(Duration.ofNanos(remaining(deadline) + INTERRUPT_GRACE.toNanos()));
                idle &= pool.pause(Duration.ofNanos(remaining(deadline) + INTERRUPT_GRACE.toNanos()));
                if (!idle) {
                    log.warn("[{}] the old version's call did not end when interrupted at the drain timeout of {} ms; "
                            + "replacing it without draining it", name, config.drainTimeout().toMillis());
                } else if (!old.drain(Duration.ofNanos(remaining(deadline)))
                        | !drainAll(oldExtras, deadline)) {
                    log.warn("[{}] old version still reported work in flight after the drain timeout of {} ms; closing it",
                            name, config.drainTimeout().toMillis());
                }
            }
            try {
                if (old != null) {
                    next = handOffState(old, next, idle, entry, !verb.isEmpty());
                }
                initBounded(next, extras);
            } catch (WasiModuleException e) {
                next.close();
                extras.forEach(WasmModule::close);
                if (old != null) {
                    old.noDeadline(); // it goes on serving
                    oldExtras.forEach(WasmModule::noDeadline);
                    state = ModuleState.SERVING;
                }
                loadFailed(e, swap, t0);
                throw e;
            }
            commit(old, next, nextVersion);
            versions.committed(entry);
            if (quarantine.active()) {
                log.info("[{}] quarantine lifted: a new version serves", name);
            }
            quarantine.lift();
            if (swap && verb.isEmpty() && versions.previous() != null) {
                probation.start(entry.sha256()); // a new version: on probation, with a version to go back to
            } else {
                probation.end();
            }
            pool.install(extras);
            oldExtras.forEach(WasmModule::close);
        } finally {
            if (swap) {
                mailbox.resume(); // whatever happened, the slot serves again: the old version or the new one
                pool.resume();
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        lastLoadFailed = false;
        log.info("[{}] {}{} ({} bytes, sha256 {}, {}, topics {}) in {} ms", name,
                verb.isEmpty() ? (swap ? "swapped to " : "loaded ") : verb,
                entry.file() != null ? entry.file().getFileName() : "bytes", entry.size(), entry.sha256().substring(0, 12),
                next.engine(), brief(next.topics()), took.toMillis());
        if (!next.topics().isEmpty() && (!next.hasAllocator() || !next.hasHandler())) {
            log.warn("[{}] subscribes to {} but exports {}: its messages will be dropped and counted", name,
                    brief(next.topics()), !next.hasHandler() ? "no on_message" : "neither malloc nor alloc");
        }
        context.listeners().moduleLoaded(name, swap, took);
    }

    /**
     * Carries the old version's state into the new one ({@code state_save} / {@code state_load}, when both take part),
     * within the drain timeout whatever the call timeout. A failure fails a swap: the old version keeps serving. A
     * rollback goes on without the state instead: it is the way away from a version that may be bad in its
     * {@code state_save} too, so the version restored starts from fresh state, in a new instance (the one that failed to
     * take the state may hold half of it).
     *
     * @param idle whether the old version is idle (a call of it that could not be stopped forbids calling it again)
     * @param entry the version {@code next} is an instance of
     * @param rollingBack whether this is a rollback (asked for or automatic)
     * @return the instance to init and commit: {@code next}, or a fresh one after a rollback's failed hand-off
     */
    private WasmModule handOffState(WasmModule old, WasmModule next, boolean idle,
            VersionHistory.Entry<WasmModule.Compiled> entry, boolean rollingBack) {
        if (!old.state().saves() || !next.state().loads()) {
            return next;
        }
        if (!idle) {
            log.warn("[{}] its state is not carried to the new version: the old version's call did not end", name);
            return next;
        }
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        old.interruptAfter(deadline);
        next.interruptAfter(deadline);
        try {
            int bytes = StateExports.transfer(old, next);
            log.info("[{}] carried {} bytes of state to the new version", name, bytes);
        } catch (WasiModuleException e) {
            String cause = e.getMessage();
            String prefix = "module '" + name + "': ";
            String reason = "state hand-off failed: " + (cause.startsWith(prefix) ? cause.substring(prefix.length()) : cause);
            if (!rollingBack) {
                throw new WasiModuleException(name, e.kind(), reason, e);
            }
            log.warn("[{}] {}; rolling back all the same: the version restored starts from fresh state", name, reason);
            WasmModule fresh = WasmModule.instantiate(entry.compiled(), config, this, context.watchdog());
            next.close(); // only now: if the fresh instance cannot be made, the caller closes next as on any failure
            return fresh;
        }
        next.noDeadline();
        return next;
    }

    /**
     * Runs the new version's {@code init} (and that of the pool's extra instances) within the drain timeout, whatever
     * the call timeout: during a swap the old version is paused meanwhile, so an init that loops must not hold it (nor
     * the thread swapping) for ever. Past the deadline the call is interrupted and the load fails.
     */
    private void initBounded(WasmModule next, List<WasmModule> extras) {
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        next.interruptAfter(deadline);
        extras.forEach(x -> x.interruptAfter(deadline));
        try {
            next.init();
            for (WasmModule x : extras) {
                x.init(); // its subscriptions stay its own: only the serving instance's reach the bus
            }
        } catch (WasiModuleException e) {
            if (e.kind() == WasiModuleException.Kind.TIMEOUT && System.nanoTime() - deadline >= 0) {
                throw new WasiModuleException(name, WasiModuleException.Kind.TIMEOUT, "init did not return within the "
                        + "drain timeout of " + config.drainTimeout().toMillis() + " ms and was interrupted", e);
            }
            throw e;
        }
        next.noDeadline();
        extras.forEach(WasmModule::noDeadline);
    }

    /** The extra instances of an HTTP pool: none when the pool size is 1 or the version does not answer HTTP. */
    private List<WasmModule> instantiateExtras(WasmModule.Compiled compiled, WasmModule next) {
        if (pool.size() == 1 || next.httpMode() == HttpMode.NONE) {
            return List.of();
        }
        List<WasmModule> extras = new ArrayList<>();
        try {
            for (int i = 1; i < pool.size(); i++) {
                extras.add(WasmModule.instantiate(compiled, config, this, context.watchdog()));
            }
            return extras;
        } catch (WasiModuleException e) {
            next.close();
            extras.forEach(WasmModule::close);
            throw e;
        }
    }

    private static boolean drainAll(List<WasmModule> instances, long deadline) {
        boolean drained = true;
        for (WasmModule x : instances) {
            drained &= x.drain(Duration.ofNanos(remaining(deadline)));
        }
        return drained;
    }

    /**
     * The new version's description, with its middleware rule: {@code tinywasm.wasi.http.middleware.<name>} if
     * configured, else {@code <modules-dir>/<name>/rule.txt} if there is one (read now, at every load, as the original
     * reads it at every swap).
     */
    private Version version(@Nullable Path file, String sha256, long size) {
        HttpConfig.Middleware configured = config.http().middleware().get(name);
        if (configured != null) {
            return new Version(file, sha256, size, Instant.now(),
                    new HttpMiddleware(name, configured.parsedRule(), configured.order()),
                    "tinywasm.wasi.http.middleware." + name);
        }
        Path rule = config.modulesDir() != null ? config.modulesDir().resolve(name).resolve("rule.txt") : null;
        if (rule != null && Files.isRegularFile(rule)) {
            try {
                if (Files.size(rule) > MAX_RULE_FILE) {
                    throw new IOException("larger than " + MAX_RULE_FILE + " bytes");
                }
                return new Version(file, sha256, size, Instant.now(),
                        new HttpMiddleware(name, HttpRule.parse(Files.readString(rule)), 0), rule.toString());
            } catch (IOException | RuntimeException e) {
                log.warn("[{}] cannot read its middleware rule {}: {}; it is not a middleware", name, rule, e.toString());
            }
        }
        return new Version(file, sha256, size, Instant.now(), null, null);
    }

    /**
     * Records a load that failed before there were bytes to load (the file could not be read, or is too large),
     * as a failed load of this slot: logged, counted, and FAILED unless a version serves.
     *
     * @return false if the slot was already closed (the caller makes a new slot)
     */
    public boolean loadFailed(WasiModuleException e) {
        swapLock.lock();
        MDC.put(MDC_KEY, name);
        try {
            if (state == ModuleState.CLOSED || state == ModuleState.UNLOADING) {
                return false;
            }
            attemptedSha256 = null; // whatever the file holds next is worth a try
            loadFailed(e, current != null, System.nanoTime());
            return true;
        } finally {
            MDC.remove(MDC_KEY);
            swapLock.unlock();
        }
    }

    private void commit(@Nullable WasmModule old, WasmModule next, Version v) {
        // The instance first, the subscriptions after: a message the bus hands to the slot from now on finds the
        // version that asked for it (on a first load the mailbox is not paused, and the worker may run at once).
        if (old != null) {
            old.deactivate(); // what it subscribes from now on (a call that could not be stopped) stays its own
        }
        current = next;
        next.activate(this);
        subscribeExactly(next);
        if (old != null) {
            swaps.increment(); // before the new version becomes visible: a snapshot never shows it uncounted
        }
        version = v;
        state = ModuleState.SERVING;
        if (old != null) {
            old.close();
        }
    }

    private void loadFailed(WasiModuleException e, boolean swap, long t0) {
        recordError(e);
        lastLoadFailed = true;
        failedLoads.increment();
        if (current == null) {
            state = ModuleState.FAILED;
        }
        log.warn("[{}] {} failed{}: {}", name, swap ? "swap" : "load",
                swap ? ", the previous version keeps serving" : "", e.getMessage());
        context.listeners().moduleLoadFailed(name, swap, Duration.ofNanos(System.nanoTime() - t0), e);
    }

    /** Unloads the slot within the drain timeout from now; see {@link #unload(long)}. */
    public boolean unload() {
        return unload(System.nanoTime() + config.drainTimeout().toNanos());
    }

    /**
     * Unsubscribes, lets the mailbox deliver what it already accepted, drains the guest and closes it, all by
     * {@code deadline} ({@link System#nanoTime()}): a guest call still running then is interrupted, whatever the call
     * timeout, and messages still queued are dropped and counted ({@code closed}). Returns at the latest twice
     * {@link #INTERRUPT_GRACE} after the deadline (once waiting for a load that holds the slot, once for the
     * interrupted call to end).
     *
     * @return false if a load or swap of this slot still held it at that point (the slot is left to it)
     */
    public boolean unload(long deadline) {
        boolean locked;
        try {
            locked = swapLock.tryLock(remaining(deadline) + INTERRUPT_GRACE.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            log.warn("[{}] not unloaded: a load or swap of it still runs past the drain timeout of {} ms", name,
                    config.drainTimeout().toMillis());
            return false;
        }
        MDC.put(MDC_KEY, name);
        try {
            if (state == ModuleState.CLOSED) {
                return true;
            }
            state = ModuleState.UNLOADING;
            WasmModule m = current;
            List<WasmModule> extras = pool.instances();
            if (m != null) {
                m.deactivate();
                m.interruptAfter(deadline);
            }
            extras.forEach(x -> x.interruptAfter(deadline));
            unsubscribeAll(); // after this, a subscribe the guest makes while it delivers what is queued goes nowhere
            if (!mailbox.awaitEmpty(Duration.ofNanos(remaining(deadline)))
                    | !pool.awaitEmpty(Duration.ofNanos(remaining(deadline)))) {
                log.warn("[{}] mailbox not empty after the drain timeout of {} ms", name, config.drainTimeout().toMillis());
            }
            boolean idle = mailbox.pause(Duration.ofNanos(remaining(deadline) + INTERRUPT_GRACE.toNanos()));
            idle &= pool.pause(Duration.ofNanos(remaining(deadline) + INTERRUPT_GRACE.toNanos()));
            pool.close(); // requests still queued on its lanes are answered 503
            int left = mailbox.close();
            if (left > 0) {
                dropCounter(DropReason.CLOSED).add(left);
                log.warn("[{}] dropped {} queued messages on close", name, left);
            }
            if (m != null) {
                if (!idle) {
                    log.warn("[{}] a call into it did not end when interrupted at the drain timeout; closing it without draining it", name);
                } else if (!m.drain(Duration.ofNanos(remaining(deadline))) | !drainAll(extras, deadline)) {
                    log.warn("[{}] still reported work in flight at the drain timeout; closing it", name);
                }
                m.close();
            }
            extras.forEach(WasmModule::close);
            current = null;
            versions.clear(); // the compiled code of both versions may be unloaded now
            probation.end();
            state = ModuleState.CLOSED;
            log.info("[{}] unloaded: {} messages delivered, {} dropped in all", name, delivered.sum(),
                    dropped.values().stream().mapToLong(LongAdder::sum).sum());
            context.listeners().moduleUnloaded(name);
            return true;
        } finally {
            MDC.remove(MDC_KEY);
            swapLock.unlock();
        }
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    // ---- delivery (mailbox worker) --------------------------------------------------------------------------

    @Override
    public void offer(Message message) {
        Mailbox.Offer result = mailbox.offer(message, config.overflowPolicy(), config.publishTimeout());
        if (result == Mailbox.Offer.FULL) {
            drop(DropReason.MAILBOX_FULL, message);
        } else if (result == Mailbox.Offer.CLOSED) {
            drop(DropReason.CLOSED, message);
        }
    }

    @Override
    public void handle(Message message) {
        WasmModule m = current;
        if (m == null) {
            notCalled();
            drop(DropReason.CLOSED, message);
            return;
        }
        if (!m.subscribedTo(message.topic())) {
            notCalled();
            drop(DropReason.UNSUBSCRIBED, message);
            return;
        }
        if (quarantine.active()) {
            notCalled();
            quarantined(message);
            return;
        }
        if (!m.hasHandler()) {
            notCalled();
            drop(DropReason.NO_HANDLER, message);
            return;
        }
        BusInterceptor.Scope scope;
        try {
            scope = context.interceptor().beforeProcess(name, message);
        } catch (RuntimeException | Error e) {
            notCalled(); // the guest never saw it (the mailbox logs what was thrown)
            throw e;
        }
        Throwable failure = null;
        boolean handed = false; // a local: the healthy path writes no field (see notCalledInBatch)
        try {
            WasiModuleException cleanup = m.deliver(message);
            handed = true;
            quarantine.succeeded();
            if (cleanup != null) {
                guestError(cleanup, message); // delivered all the same: only the free() after it failed
            }
        } catch (WasiModuleException e) {
            failure = e;
            guestError(e, message);
        } finally {
            if (!handed) {
                failedInBatch++; // a guest error, or anything else thrown out of the call: a call, not delivered
            }
            scope.close(failure);
        }
    }

    /** An item of the batch in progress that is not a guest call for a message (see {@code notCalledInBatch}). */
    private void notCalled() {
        notCalledInBatch++;
    }

    @Override
    public void droppedAfterClose(int count) {
        dropCounter(DropReason.CLOSED).add(count);
        log.warn("[{}] dropped {} messages of a batch in progress on close", name, count);
    }

    @Override
    public void batchStart() {
        MDC.put(MDC_KEY, name);
    }

    @Override
    public void batchDone(int count, long nanos) {
        // once per batch: an atomic add per message is a fence on the hot path
        int messageCalls = count - notCalledInBatch;
        calls.add(messageCalls); // HTTP calls are counted in serveHttp
        delivered.add(messageCalls - failedInBatch);
        notCalledInBatch = 0;
        failedInBatch = 0;
        callNanos.add(nanos);
        MDC.remove(MDC_KEY);
    }

    /** After a batch of an extra HTTP lane (its own worker): the time it took; serveHttp counted its calls. */
    void laneBatchDone(long nanos) {
        callNanos.add(nanos);
        MDC.remove(MDC_KEY);
    }

    private void guestError(WasiModuleException e, Message message) {
        recordError(e); // first: whoever sees a counter move must see the error that moved it
        switch (e.kind()) {
            case NO_ALLOCATOR -> dropCounter(DropReason.NO_ALLOCATOR).increment();
            case NO_MEMORY -> dropCounter(DropReason.NO_MEMORY).increment();
            default -> { }
        }
        countError(e);
        log.warn("[{}] error handling a message on topic '{}': {}", name, message.topic(), e.getMessage());
        context.listeners().guestError(name, e);
        if (e.kind() != WasiModuleException.Kind.TRAP && e.kind() != WasiModuleException.Kind.TIMEOUT
                && e.kind() != WasiModuleException.Kind.DENIED) {
            return; // not the message's doing (no allocator, no memory): no dead letter, no quarantine
        }
        deadLetter(message, e.getMessage());
        boolean onProbation = probation.active();
        probationFailure(e);
        if (!onProbation && quarantine.failed()) {
            log.warn("[{}] quarantined after {} failures in a row: no more calls into it; its messages go to {} until a "
                    + "new version or a reload", name, quarantine.after(),
                    deadLetters.topic() != null ? "the dead-letter topic '" + deadLetters.topic() + "'" : "nowhere (dropped)");
        }
    }

    /** Publishes {@code message} to the dead-letter topic, unless there is none or it is a dead letter already. */
    private boolean deadLetter(Message message, String error) {
        if (!deadLetters.accepts(message)) {
            return false;
        }
        deadLettered.increment();
        context.bus().publish(deadLetters.letter(name, message, error));
        return true;
    }

    /** A message for a quarantined module: to the dead-letter topic, or dropped if it cannot go there. */
    private void quarantined(Message message) {
        if (!deadLetter(message, "module '" + name + "' is quarantined")) {
            drop(DropReason.QUARANTINED, message);
        }
    }

    /**
     * Counts a trap (a denied call included) or timeout against the version on probation; the one that reaches {@code deploy.max-traps} starts
     * its rollback, on a thread of its own (this worker is inside a call the rollback's pause waits for).
     */
    private void probationFailure(WasiModuleException e) {
        // a call its capabilities deny traps the guest: on probation it counts as any other trap
        if (e.kind() != WasiModuleException.Kind.TRAP && e.kind() != WasiModuleException.Kind.TIMEOUT
                && e.kind() != WasiModuleException.Kind.DENIED) {
            return;
        }
        String from = probation.failed();
        if (from != null) {
            Thread t = new Thread(() -> rollbackOnProbation(from, e), "wasi-rollback-" + name);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Rolls back from version {@code from} if it still serves: the protocol of any swap, so nothing queued is lost. */
    private void rollbackOnProbation(String from, WasiModuleException cause) {
        swapLock.lock();
        MDC.put(MDC_KEY, name);
        try {
            VersionHistory.Entry<WasmModule.Compiled> serving = versions.serving();
            VersionHistory.Entry<WasmModule.Compiled> previous = versions.previous();
            if (state == ModuleState.CLOSED || state == ModuleState.UNLOADING || current == null || serving == null
                    || !serving.sha256().equals(from) || previous == null) {
                log.info("[{}] no automatic rollback: version sha256 {} no longer serves", name, from.substring(0, 12));
                return;
            }
            String reason = probation.maxFailures() + " traps or timeouts within the probation of "
                    + probation.length().toMillis() + " ms after the swap (the last: " + cause.getMessage() + ")";
            log.warn("[{}] rolling back automatically from sha256 {} to {}: {}", name, from.substring(0, 12),
                    previous.sha256().substring(0, 12), reason);
            install(previous, System.nanoTime(), "rolled back automatically to ");
            rollbacks.increment();
            context.listeners().moduleRolledBack(name, true, from, previous.sha256(), reason);
        } catch (WasiModuleException e) {
            log.error("[{}] automatic rollback failed; the new version keeps serving: {}", name, e.getMessage());
        } catch (RuntimeException e) {
            log.error("[{}] automatic rollback failed; the new version keeps serving", name, e);
        } finally {
            MDC.remove(MDC_KEY);
            swapLock.unlock();
        }
    }

    private void countError(WasiModuleException e) {
        switch (e.kind()) {
            case TIMEOUT -> timeouts.increment();
            case TRAP -> traps.increment();
            default -> { }
        }
        errors.increment();
    }

    // ---- HTTP (any thread offers; a mailbox worker answers) -------------------------------------------------

    /** Whether a version serves (possibly an old one while a new one is being committed). */
    public boolean serving() {
        return current != null && (state == ModuleState.SERVING || state == ModuleState.SWAPPING);
    }

    /** The serving version's middleware rule, or {@code null} when it is a target (or none serves). */
    public @Nullable HttpMiddleware middleware() {
        Version v = version;
        return v != null ? v.middleware() : null;
    }

    /**
     * Queues an HTTP request for the module, behind what its mailbox (or the pool lane it goes to) already holds; never
     * waits. The result completes, once, on the worker that ran the guest (or on this thread when the request is
     * refused at once): answered, passed on (a middleware that returned 0), failed (the module's error, counted), or
     * refused with 503 and {@code Retry-After} (mailbox full, module unloaded).
     *
     * @param middleware whether the module runs as a middleware of the request or as its target
     */
    public CompletableFuture<PipelineStep> http(GuestHttpRequest request, boolean middleware) {
        HttpWork work = new HttpWork(name, request, middleware);
        if (quarantine.active()) {
            work.refuse("module '" + name + "' is quarantined");
            return work.result();
        }
        switch (pool.offer(work)) {
            case ACCEPTED -> httpRequests.increment();
            case FULL -> {
                httpRejected.increment();
                long now = System.nanoTime();
                long last = lastDropWarn;
                if (last == 0 || now - last > DROP_WARN_INTERVAL) {
                    lastDropWarn = now;
                    log.warn("[{}] refused an HTTP request ({} {}): its mailbox is full; requests refused so far: {}",
                            name, request.method(), request.path(), httpRejected.sum());
                }
                work.refuse("module '" + name + "' is busy: its mailbox is full");
            }
            case CLOSED -> work.refuse("module '" + name + "' is being unloaded");
        }
        return work.result();
    }

    @Override
    public void handle(Mailbox.Work work) {
        notCalled(); // serveHttp counts its own calls
        serveHttp(current, (HttpWork) work, false);
    }

    /**
     * Runs one request on {@code instance} (the serving one, or an extra instance of the pool), on the worker of the
     * lane it was queued in. Completes the request whatever happens.
     *
     * @param extra whether {@code instance} is an extra instance of the pool (null: the version it belonged to does not
     *     answer HTTP, and the request is answered as such a module's would be)
     */
    void serveHttp(@Nullable WasmModule instance, HttpWork work, boolean extra) {
        if (quarantine.active()) {
            // checked here too, not only when offered: a request queued before the failure that quarantined the
            // module must not reach it either
            work.refuse("module '" + name + "' is quarantined");
            return;
        }
        if (instance == null) {
            if (extra) {
                work.complete(work.middleware ? PipelineStep.passed(work.request)
                        : PipelineStep.answered(new GuestHttpResponse(204, List.of(), new byte[0], null)));
            } else {
                work.refuse("module '" + name + "' is not serving");
            }
            return;
        }
        try {
            calls.increment();
            work.complete(instance.serveHttp(work.request, work.middleware, config.http().maxResponseSize(),
                    this::sideError));
        } catch (WasiModuleException e) {
            recordError(e);
            countError(e);
            httpErrors.increment();
            log.warn("[{}] error handling HTTP {} {}{}: {}", name, work.request.method(), work.request.path(),
                    work.middleware ? " (as a middleware: the pipeline goes on)" : "", e.getMessage());
            context.listeners().guestError(name, e);
            probationFailure(e);
            work.complete(PipelineStep.failed(GuestHttpResponse.error(
                    e.kind() == WasiModuleException.Kind.TIMEOUT ? 504 : 500, e.getMessage(), null)));
        } catch (RuntimeException | Error e) {
            log.error("[{}] failed to answer HTTP {} {}", name, work.request.method(), work.request.path(), e);
            work.complete(PipelineStep.failed(GuestHttpResponse.error(500, "module '" + name
                    + "': the host failed to answer: " + e, null)));
            if (e instanceof Error err) {
                throw err;
            }
        }
    }

    /** An error that did not stop a request (a failed malloc or free): the module's error all the same. */
    private void sideError(WasiModuleException e) {
        recordError(e);
        countError(e);
        log.warn("[{}] error while handling an HTTP request: {}", name, e.getMessage());
        context.listeners().guestError(name, e);
    }

    private void drop(DropReason reason, Message message) {
        dropCounter(reason).increment();
        long now = System.nanoTime();
        long last = lastDropWarn;
        if (last == 0 || now - last > DROP_WARN_INTERVAL) {
            lastDropWarn = now;
            log.warn("[{}] dropped a message on topic '{}' ({}); total dropped for this reason: {}", name,
                    message.topic(), reason.tag(), dropCounter(reason).sum());
        }
    }

    private void recordError(WasiModuleException e) {
        lastError = e.getMessage();
        lastErrorAt = Instant.now();
    }

    // ---- subscriptions on the bus ---------------------------------------------------------------------------

    /** Makes the slot's bus subscriptions those of {@code module}: subscribes the new topics, drops the others. */
    private void subscribeExactly(WasmModule module) {
        synchronized (busTopics) {
            acceptingSubscriptions = true;
            // Read the topics under the lock: a subscribe the guest makes meanwhile either is in this snapshot or
            // reaches subscribe() below after it, never neither.
            Set<String> wanted = module.topics();
            for (Iterator<String> it = busTopics.iterator(); it.hasNext(); ) {
                String t = it.next();
                if (!wanted.contains(t)) {
                    it.remove();
                    context.bus().unsubscribe(t, this);
                }
            }
            for (String t : wanted) {
                if (busTopics.add(t)) {
                    context.bus().subscribe(t, this);
                }
            }
        }
    }

    /** Removes every subscription of the slot from the bus, for good. */
    private void unsubscribeAll() {
        synchronized (busTopics) {
            acceptingSubscriptions = false;
            for (String t : busTopics) {
                context.bus().unsubscribe(t, this);
            }
            busTopics.clear();
        }
    }

    // ---- what the guest's imports reach -------------------------------------------------------------------

    @Override
    public void subscribe(String topic) {
        synchronized (busTopics) {
            if (acceptingSubscriptions && busTopics.add(topic)) {
                context.bus().subscribe(topic, this);
            }
        }
    }

    @Override
    public void unsubscribe(String topic) {
        synchronized (busTopics) {
            if (busTopics.remove(topic)) {
                context.bus().unsubscribe(topic, this);
            }
        }
    }

    @Override
    public void publish(Message message) {
        published.increment();
        context.bus().publish(message);
    }

    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        broadcasts.increment();
        try {
            context.broadcaster().broadcast(module, topic, payload);
        } catch (RuntimeException e) {
            log.warn("[{}] ws_broadcast on topic '{}' failed in the broadcaster: {}", name, topic, e.toString());
        }
    }

    @Override
    public void denied(Capabilities.Call call, String topic) {
        denied.increment();
    }

    /** The HTTP requests the module may receive (its configured capabilities; they do not change while it runs). */
    public HttpAccess httpAccess() {
        return config.capabilities(name).http();
    }

    /**
     * Counts an HTTP request its capabilities refused ({@link io.github.tinywasm.wasi.http.GuestHttpDispatcher} answered
     * it 403 before any guest ran), with the bus calls they refused: one {@code denied} counter per module.
     *
     * @return the module's denials so far, for a log line
     */
    public long deniedHttp() {
        denied.increment();
        return denied.sum();
    }

    // ---- inspection ---------------------------------------------------------------------------------------

    /** Messages dropped because the slot was closed with them still queued, or reached it after it closed. */
    public long droppedClosed() {
        return dropCounter(DropReason.CLOSED).sum();
    }

    /** The counter of one drop reason: every reason has one from the constructor on. */
    private LongAdder dropCounter(DropReason reason) {
        return Objects.requireNonNull(dropped.get(reason), "dropped");
    }

    /** SHA-256 of the bytes of the most recent load attempt, successful or not. */
    public @Nullable String attemptedSha256() {
        return attemptedSha256;
    }

    public @Nullable Path file() {
        Version v = version;
        return v != null ? v.file() : null;
    }

    public ModuleInfo info() {
        WasmModule m = current;
        Version v = version;
        VersionHistory.Entry<WasmModule.Compiled> previous = m != null ? versions.previous() : null;
        Map<DropReason, Long> drops = new EnumMap<>(DropReason.class);
        dropped.forEach((r, n) -> drops.put(r, n.sum()));
        ModuleCounters counters = new ModuleCounters(published.sum(), broadcasts.sum(), delivered.sum(),
                errors.sum(), traps.sum(), timeouts.sum(), drops, calls.sum(), callNanos.sum(), swaps.sum(),
                failedLoads.sum(), rollbacks.sum(), denied.sum(), deadLettered.sum());
        HttpMiddleware mw = m != null && v != null ? v.middleware() : null;
        HttpAccess access = httpAccess();
        HttpInfo http = new HttpInfo(m != null ? m.httpMode() : HttpMode.NONE, mw != null ? mw.rule().text() : null,
                mw != null && v != null ? v.ruleSource() : null, mw != null ? mw.order() : 0, pool.size(), httpRequests.sum(),
                httpErrors.sum(), httpRejected.sum(), access.enabled(), access.pathTexts());
        ModuleState shown = state == ModuleState.SERVING && quarantine.active() ? ModuleState.QUARANTINED : state;
        return new ModuleInfo(name, shown, m != null ? List.copyOf(m.topics()) : List.of(),
                v != null && v.file() != null ? v.file().toString() : null,
                m != null && v != null ? v.sha256() : null, v != null ? v.size() : 0,
                v != null ? v.loadedAt() : null, m != null ? m.engine() : null, m != null && m.hasMemory() ? Long.valueOf(m.memoryBytes()) : null,
                lastError, lastErrorAt, lastLoadFailed, mailbox.depth() + pool.depth(), counters, http,
                previous != null ? previous.sha256() : null);
    }

    /** A topic set for a log line: a module may subscribe to thousands; the endpoint lists them all. */
    static String brief(Set<String> topics) {
        int shown = 10;
        if (topics.size() <= shown) {
            return topics.toString();
        }
        return topics.stream().limit(shown).collect(java.util.stream.Collectors.joining(", ", "[", ", ... "))
                + (topics.size() - shown) + " more]";
    }
}
