package io.github.tinywasm.wasi;

import io.github.tinywasm.wasi.deploy.CompileCacheConfig;
import io.github.tinywasm.wasi.deploy.ProbationConfig;
import io.github.tinywasm.wasi.http.HttpConfig;
import io.github.tinywasm.wasi.policy.Capabilities;
import io.github.tinywasm.wasi.policy.PoisonConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Immutable configuration of a {@link WasiServer}. Build one with {@link #builder()}; every value is
 * checked when it is built, and a bad one fails with a message naming the setting.
 *
 * @param modulesDir folder whose {@code *.wasm} files are loaded at start, or {@code null} for none
 * @param watch whether changes in {@code modulesDir} load, swap and unload modules while running
 * @param watchQuietPeriod how long a changed file must stay unchanged (size and time) before it is loaded
 * @param watchPollInterval how often the folder is rescanned, as a fallback for missed file-system events
 * @param drainTimeout how long a module's {@code drain()} may report work in flight during swap or stop
 * @param mailboxCapacity maximum messages queued per subscriber
 * @param overflowPolicy what a publisher does when a mailbox is full
 * @param publishTimeout how long a publisher blocks on a full mailbox under {@link OverflowPolicy#BLOCK}
 * @param engine compiler or interpreter
 * @param maxMemoryBytes the most linear memory a module may grow to, rounded down to 64 KiB pages; 0 = the
 *     module's own maximum
 * @param callTimeout the longest one guest call may run before it is interrupted; {@link Duration#ZERO}
 *     disables the watchdog
 * @param workerThreads threads shared by all mailboxes
 * @param directories host folders pre-opened for guests, by guest path; empty = no file-system access
 * @param maxModuleSize the largest module file or byte array accepted, in bytes; a larger one is a module error,
 *     refused by its size before it is read
 * @param http HTTP to guests: body limits, middleware rules, pool sizes
 * @param subscriberThreads threads shared by the Java subscribers' mailboxes (the event bridge's included), apart
 *     from the guests' workers, so that a slow Java consumer never holds a thread a guest needs
 * @param compileCache where compiled versions are kept (memory, and a folder if set) and how many
 * @param probation how long a new version is on probation after a swap, and how many traps roll it back
 * @param capabilities what each module may do on the bus, by module name; a module not listed may do everything
 * @param poison the dead-letter topic, and after how many failures in a row a module is quarantined
 */
public record WasiConfig(
        @Nullable Path modulesDir,
        boolean watch,
        Duration watchQuietPeriod,
        Duration watchPollInterval,
        Duration drainTimeout,
        int mailboxCapacity,
        OverflowPolicy overflowPolicy,
        Duration publishTimeout,
        Engine engine,
        long maxMemoryBytes,
        Duration callTimeout,
        int workerThreads,
        Map<String, Path> directories,
        long maxModuleSize,
        HttpConfig http,
        int subscriberThreads,

        CompileCacheConfig compileCache,
        ProbationConfig probation,
        Map<String, Capabilities> capabilities,
        PoisonConfig poison) {

    /** Size of a WebAssembly memory page. */
    public static final int PAGE_SIZE = 65536;

    public WasiConfig {
        requirePositive("watchQuietPeriod", watchQuietPeriod);
        requirePositive("watchPollInterval", watchPollInterval);
        requireNotNegative("drainTimeout", drainTimeout);
        requireNotNegative("publishTimeout", publishTimeout);
        requireNotNegative("callTimeout", callTimeout);
        if (mailboxCapacity < 1) {
            throw new IllegalArgumentException("mailboxCapacity must be at least 1, was " + mailboxCapacity);
        }
        if (workerThreads < 1) {
            throw new IllegalArgumentException("workerThreads must be at least 1, was " + workerThreads);
        }
        if (subscriberThreads < 1) {
            throw new IllegalArgumentException("subscriberThreads must be at least 1, was " + subscriberThreads);
        }
        if (maxMemoryBytes != 0 && maxMemoryBytes < PAGE_SIZE) {
            throw new IllegalArgumentException(
                    "maxMemoryBytes must be 0 (no limit) or at least one 64 KiB page, was " + maxMemoryBytes);
        }
        if (maxMemoryBytes > 65536L * PAGE_SIZE) {
            throw new IllegalArgumentException("maxMemoryBytes must be at most 4 GiB, was " + maxMemoryBytes);
        }
        if (maxModuleSize < 8 || maxModuleSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxModuleSize must be between 8 bytes and 2 GiB, was " + maxModuleSize);
        }
        Objects.requireNonNull(overflowPolicy, "overflowPolicy");
        Objects.requireNonNull(engine, "engine");
        directories = Map.copyOf(Objects.requireNonNull(directories, "directories"));
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(compileCache, "compileCache");
        Objects.requireNonNull(probation, "probation");
        capabilities = Map.copyOf(Objects.requireNonNull(capabilities, "capabilities"));
        Objects.requireNonNull(poison, "poison");
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }

    private static void requireNotNegative(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, was " + d);
        }
    }

    /** What module {@code name} may do on the bus ({@link Capabilities#ALL} unless configured). */
    public Capabilities capabilities(String name) {
        return capabilities.getOrDefault(name, Capabilities.ALL);
    }

    /** Memory limit in pages, or 0 for none. */
    public int maxMemoryPages() {
        return (int) (maxMemoryBytes / PAGE_SIZE);
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults, with no modules folder. */
    public static WasiConfig defaults() {
        return builder().build();
    }

    /** A builder initialised from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.modulesDir = modulesDir;
        b.watch = watch;
        b.watchQuietPeriod = watchQuietPeriod;
        b.watchPollInterval = watchPollInterval;
        b.drainTimeout = drainTimeout;
        b.mailboxCapacity = mailboxCapacity;
        b.overflowPolicy = overflowPolicy;
        b.publishTimeout = publishTimeout;
        b.engine = engine;
        b.maxMemoryBytes = maxMemoryBytes;
        b.callTimeout = callTimeout;
        b.workerThreads = workerThreads;
        b.directories = new LinkedHashMap<>(directories);
        b.maxModuleSize = maxModuleSize;
        b.http = http;
        b.subscriberThreads = subscriberThreads;
        b.compileCache = compileCache;
        b.probation = probation;
        b.capabilities = new LinkedHashMap<>(capabilities);
        b.poison = poison;
        return b;
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private @Nullable Path modulesDir;
        private boolean watch = true;
        private Duration watchQuietPeriod = Duration.ofMillis(300);
        private Duration watchPollInterval = Duration.ofSeconds(2);
        private Duration drainTimeout = Duration.ofSeconds(10);
        private int mailboxCapacity = 10_000;
        private OverflowPolicy overflowPolicy = OverflowPolicy.BLOCK;
        private Duration publishTimeout = Duration.ofSeconds(1);
        private Engine engine = Engine.COMPILER;
        private long maxMemoryBytes = 256L * 1024 * 1024;
        private Duration callTimeout = Duration.ofSeconds(10);
        private int workerThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private Map<String, Path> directories = new LinkedHashMap<>();
        private long maxModuleSize = 64L * 1024 * 1024;
        private HttpConfig http = HttpConfig.DEFAULTS;
        private int subscriberThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private CompileCacheConfig compileCache = CompileCacheConfig.DEFAULTS;
        private ProbationConfig probation = ProbationConfig.OFF;
        private Map<String, Capabilities> capabilities = new LinkedHashMap<>();
        private PoisonConfig poison = PoisonConfig.DEFAULTS;

        private Builder() {}

        public Builder modulesDir(@Nullable Path v) { modulesDir = v; return this; }
        public Builder watch(boolean v) { watch = v; return this; }
        public Builder watchQuietPeriod(Duration v) { watchQuietPeriod = v; return this; }
        public Builder watchPollInterval(Duration v) { watchPollInterval = v; return this; }
        public Builder drainTimeout(Duration v) { drainTimeout = v; return this; }
        public Builder mailboxCapacity(int v) { mailboxCapacity = v; return this; }
        public Builder overflowPolicy(OverflowPolicy v) { overflowPolicy = v; return this; }
        public Builder publishTimeout(Duration v) { publishTimeout = v; return this; }
        public Builder engine(Engine v) { engine = v; return this; }
        public Builder maxMemoryBytes(long v) { maxMemoryBytes = v; return this; }
        public Builder callTimeout(Duration v) { callTimeout = v; return this; }
        public Builder workerThreads(int v) { workerThreads = v; return this; }
        public Builder directory(String guestPath, Path hostPath) { directories.put(guestPath, hostPath); return this; }
        public Builder directories(Map<String, Path> v) { directories = new LinkedHashMap<>(v); return this; }
        public Builder maxModuleSize(long v) { maxModuleSize = v; return this; }
        public Builder http(HttpConfig v) { http = v; return this; }
        public Builder subscriberThreads(int v) { subscriberThreads = v; return this; }
        public Builder compileCache(CompileCacheConfig v) { compileCache = v; return this; }
        public Builder probation(ProbationConfig v) { probation = v; return this; }
        public Builder capabilities(String module, Capabilities v) { capabilities.put(module, v); return this; }
        public Builder capabilities(Map<String, Capabilities> v) { capabilities = new LinkedHashMap<>(v); return this; }
        public Builder poison(PoisonConfig v) { poison = v; return this; }
        /** The compile cache's disk tier in {@code dir} ({@code null}: memory only), with the other bounds unchanged. */
        public Builder cacheDir(Path dir) { compileCache = compileCache.withDir(dir); return this; }

        public WasiConfig build() {
            return new WasiConfig(modulesDir, watch, watchQuietPeriod, watchPollInterval, drainTimeout,
                    mailboxCapacity, overflowPolicy, publishTimeout, engine, maxMemoryBytes, callTimeout,
                    workerThreads, directories, maxModuleSize, http, subscriberThreads, compileCache, probation,
                    capabilities, poison);
        }
    }
}
