package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.OverflowPolicy;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.deploy.CompileCacheConfig;
import io.github.tinywasm.wasi.deploy.ProbationConfig;
import io.github.tinywasm.wasi.policy.Capabilities;
import io.github.tinywasm.wasi.policy.HttpAccess;
import io.github.tinywasm.wasi.policy.PoisonConfig;
import io.github.tinywasm.wasi.http.HttpConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties of tinywasm-wasi, bound from {@code tinywasm.wasi.*}. Values are checked when they are
 * bound, all at once ({@link WasiPropertiesValidator}): a bad one stops start-up with Spring Boot's failure
 * analysis, naming each property, its origin and its value as written.
 *
 * @param enabled Whether to host WebAssembly modules at all.
 * @param modules Settings of single modules, by module name.
 * @param modulesDir Where the modules are: a folder (a path, or "file:" followed by a path) whose *.wasm files are
 *     loaded, watched and hot-swapped (users.wasm becomes module "users"; created at start-up if missing), or
 *     "classpath:" followed by a package path, whose *.wasm resources are loaded once at start-up, read-only.
 * @param watch Whether to load, hot-swap and unload modules when files in the modules folder change.
 * @param watchQuietPeriod How long a changed module file must stay unchanged before it is loaded, so that a file
 *     still being written is never loaded half-way.
 * @param watchPollInterval How often the modules folder is rescanned, as a fallback for missed file-system
 *     events.
 * @param drainTimeout How long a module's drain() may report work in flight during a swap or shutdown; keep it
 *     below spring.lifecycle.timeout-per-shutdown-phase.
 * @param engine How guest code runs: "compiler" (JVM bytecode, fast) or "interpreter".
 * @param mailbox Per-module mailbox settings.
 * @param maxMemory Most linear memory one module may grow to (0 = the module's own maximum).
 * @param maxModuleSize Largest module file accepted; a larger one fails to load, by its size, before it is read.
 * @param callTimeout Longest one guest call may run before it is interrupted (0 = no limit).
 * @param workerThreads Threads shared by all module mailboxes (0 = one per CPU core, at least 2).
 * @param subscriberThreads Threads shared by the Java subscribers' mailboxes, the event bridge's included, apart from
 *     the modules' (0 = one per CPU core, at least 2). A slow listener holds one of them, never a module's thread.
 * @param preopenedDirs Host folders pre-opened for guests through WASI, by guest path. Empty: no file-system
 *     access.
 * @param websocket WebSocket endpoint settings.
 * @param events ApplicationEvent bridge settings.
 * @param observations Micrometer Observation settings.
 * @param health Health indicator settings.
 * @param cluster Cluster settings: several nodes sharing WebSocket topics, their history and bus topics.
 * @param http HTTP to guests: requests to PATH/NAME/... answered by module NAME.
 * @param cacheDir Folder of the compile cache's disk tier: compiled module versions kept across restarts (and shared
 *     safely by processes), so that a restart or a redeploy of known bytes skips the compiler. Unset: memory only.
 * @param cache Bounds of the compile cache.
 * @param deploy Safe deploys: probation of new versions.
 * @param deadLetterTopic Topic where a message a module trapped or timed out on is published (headers module, topic,
 *     error; the original payload), and where a quarantined module's messages go. Empty: none.
 * @param quarantine Quarantine of modules that fail on every message.
 */
// "@param modules" comes before "@param modulesDir" on purpose: the configuration processor describes "modules" with
// the first text that starts with "@param modules".
@ConfigurationProperties("tinywasm.wasi")
public record WasiProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("modules") String modulesDir,
        @DefaultValue("true") boolean watch,
        @DefaultValue("300ms") Duration watchQuietPeriod,
        @DefaultValue("2s") Duration watchPollInterval,
        @DefaultValue("10s") Duration drainTimeout,
        @DefaultValue("compiler") Engine engine,
        @DefaultValue Mailbox mailbox,
        @DefaultValue("256MB") DataSize maxMemory,
        @DefaultValue("64MB") DataSize maxModuleSize,
        @DefaultValue("10s") Duration callTimeout,
        @DefaultValue("0") int workerThreads,
        @DefaultValue("0") int subscriberThreads,
        @Nullable Map<String, Path> preopenedDirs,
        @DefaultValue WebSocket websocket,
        @DefaultValue Events events,
        @DefaultValue Observations observations,
        @DefaultValue Health health,
        @DefaultValue Cluster cluster,
        @DefaultValue Http http,
        @Nullable Path cacheDir,
        @DefaultValue Cache cache,
        @DefaultValue Deploy deploy,
        @DefaultValue("wasi.dead-letter") String deadLetterTopic,
        @DefaultValue Quarantine quarantine,
        @Nullable Map<String, Module> modules) {

    public WasiProperties {
        preopenedDirs = preopenedDirs != null ? Map.copyOf(preopenedDirs) : Map.of();
        modules = modules != null ? Map.copyOf(modules) : Map.of();
    }

    /** Settings of single modules, by module name (never {@code null}). */
    @Override
    public Map<String, Module> modules() {
        return modules != null ? modules : Map.of();
    }

    /** Host folders pre-opened for guests, by guest path (never {@code null}). */
    @Override
    public Map<String, Path> preopenedDirs() {
        return preopenedDirs != null ? preopenedDirs : Map.of();
    }

    /**
     * Per-module mailbox.
     *
     * @param capacity Most messages queued for one module (or Java subscriber).
     * @param overflow What a publisher does when a mailbox is full: "block" (up to publish-timeout, then drop) or
     *     "drop". Drops are always counted.
     * @param publishTimeout How long a publisher blocks on a full mailbox under overflow=block.
     */
    public record Mailbox(
            @DefaultValue("10000") int capacity,
            @DefaultValue("block") OverflowPolicy overflow,
            @DefaultValue("1s") Duration publishTimeout) {}

    /**
     * WebSocket endpoint that pushes guests' ws_broadcast frames to browsers.
     *
     * @param enabled Whether to register the WebSocket endpoint (needs Spring MVC with a JSR-356 container, or
     *     WebFlux).
     * @param path Path of the endpoint; clients connect to PATH?topic=NAME.
     * @param allowedOrigins Origins allowed to connect (e.g. https://app.example.com, or * for any). Empty: same
     *     origin only.
     * @param sendBufferSize Most bytes held for one client, queued or being written; frames beyond it are dropped for
     *     that client only, and counted.
     * @param sendTimeLimit Longest a write to one client may take; a session whose write takes longer has stalled and
     *     its connection is ended (the client sees 1006), once, and counted.
     * @param maxInboundMessageSize Largest frame a client may send; the endpoint does not expect any, and closes a
     *     session that sends more (1009).
     * @param history History of each topic, for clients that reconnect and resume.
     */
    public record WebSocket(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("/ws") String path,
            @Nullable List<String> allowedOrigins,
            @DefaultValue("512KB") DataSize sendBufferSize,
            @DefaultValue("10s") Duration sendTimeLimit,
            @DefaultValue("8KB") DataSize maxInboundMessageSize,
            @DefaultValue History history) {

        public WebSocket {
            allowedOrigins = allowedOrigins != null ? List.copyOf(allowedOrigins) : List.of();
        }

        /** Allowed origins (never {@code null}). */
        @Override
        public List<String> allowedOrigins() {
            return allowedOrigins != null ? allowedOrigins : List.of();
        }
    }

    /**
     * History of each WebSocket topic: every frame gets an offset, and a client reconnecting with ?since=OFFSET gets
     * what it missed from here.
     *
     * @param size Most frames kept per topic (in a cluster: per topic stream in Redis, approximately). A client whose
     *     offset is older gets a reset notice. 0 keeps none.
     */
    public record History(@DefaultValue("100") int size) {}

    /**
     * Several nodes of the application sharing their WebSocket topics (every node's broadcasts reach every node's
     * clients, in one order per topic, with one history) and chosen bus topics, over Redis Streams.
     *
     * @param nodeId Name of this node in the cluster: in log lines, the Actuator endpoint, and the origin of what it
     *     sends. Empty: the host name and the process id.
     * @param topics Bus topics that cross nodes: patterns of dot-separated segments where * is one segment and > (at
     *     the end) one or more, e.g. orders.* or metrics.>. Every node's subscribed guests and Java subscribers get
     *     each such message once. Empty: no bus topic leaves its node.
     * @param outboxCapacity Most messages (WebSocket frames and bus messages) waiting to go to Redis, while it is
     *     unreachable or slow; more are dropped and counted.
     * @param redis Redis Streams settings (the connection itself is Spring Boot's: spring.data.redis.*).
     */
    public record Cluster(
            @Nullable String nodeId,
            @Nullable List<String> topics,
            @DefaultValue("10000") int outboxCapacity,
            @DefaultValue Redis redis) {

        public Cluster {
            topics = topics != null ? List.copyOf(topics) : List.of();
        }

        /** Bus topic patterns that cross nodes (never {@code null}). */
        @Override
        public List<String> topics() {
            return topics != null ? topics : List.of();
        }
    }

    /**
     * The cluster's transport: Redis Streams, through Spring Boot's Redis connection (Spring Data Redis with
     * Lettuce).
     *
     * @param enabled Whether this node joins the cluster over Redis Streams. Needs Spring Data Redis
     *     (spring-boot-starter-data-redis); the connection is configured with spring.data.redis.*.
     * @param keyPrefix Prefix of every Redis key of the cluster: nodes with the same Redis and prefix form one
     *     cluster.
     * @param busStreamLength Most bus messages kept in the bus stream (approximately): how far a node whose
     *     connection broke may fall behind and still catch up.
     */
    public record Redis(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("tinywasm:") String keyPrefix,
            @DefaultValue("10000") int busStreamLength) {}

    /**
     * Bridge between the bus and Spring ApplicationEvents.
     *
     * @param enabled Whether guest messages are published as WasiMessageEvent and WasiOutboundMessage events are
     *     published to guests.
     */
    public record Events(@DefaultValue("true") boolean enabled) {}

    /**
     * Micrometer Observations of the bus (needs an ObservationRegistry, as Spring Boot Actuator provides).
     *
     * @param enabled Whether publishes, deliveries and WebSocket broadcasts are observed (timers, and spans with a
     *     tracer), with the trace context carried in each message's envelope.
     */
    public record Observations(@DefaultValue("false") boolean enabled) {}

    /**
     * The "wasi" health indicator.
     *
     * @param downOnFailedModule Whether a module that failed to load and never served makes the application DOWN.
     *     By default it is only reported in the details: one bad file must not pull every node out of a load
     *     balancer while the other modules serve.
     */
    public record Health(@DefaultValue("false") boolean downOnFailedModule) {}

    /**
     * Safe deploys.
     *
     * @param probation How long after a swap a new version is on probation: if it traps or times out on max-traps
     *     messages or HTTP requests within it, the module goes back to the version it replaced by itself (0 = never).
     * @param maxTraps Traps or timeouts within the probation that roll a new version back.
     */
    public record Deploy(@DefaultValue("0s") Duration probation, @DefaultValue("3") int maxTraps) {}

    /**
     * Quarantine of modules that fail on every message.
     *
     * @param after Failures (traps or timeouts on messages) in a row that quarantine a module with no version on
     *     probation to roll back to: no more calls into it, its messages go to the dead-letter topic, until a new
     *     version or a reload. 0: never.
     */
    public record Quarantine(@DefaultValue("0") int after) {}

    /**
     * Bounds of the compile cache.
     *
     * @param maxSize Most bytes the disk tier (cache-dir) keeps; past it the least recently used entries are deleted.
     * @param memoryEntries Most module versions kept compiled in memory (0 = none).
     * @param memoryMaxSize Most bytes of module code (.wasm sizes) kept compiled in memory.
     */
    public record Cache(@DefaultValue("256MB") DataSize maxSize, @DefaultValue("16") int memoryEntries,
            @DefaultValue("64MB") DataSize memoryMaxSize) {}

    /**
     * HTTP to guests: tinywasm/wasi's /m/{name} route with its middleware pipeline.
     *
     * @param enabled Whether requests to PATH/NAME/... (any method) are answered by module NAME, in Spring MVC and
     *     WebFlux applications.
     * @param path Base path of the route: PATH/NAME/... goes to module NAME. Must start with '/'.
     * @param maxRequestSize Largest request body a guest may receive; a larger one is answered 413 before any guest
     *     runs.
     * @param maxResponseSize Largest response body a guest may produce; a larger one is answered 500 and counted as the
     *     module's error.
     * @param middleware Middleware modules by name: a rule in tinywasm/wasi's grammar ("*" or empty: every module;
     *     "a,b": only those; "-x": all but x), or .rule and .order (lower runs first; default 0, then module name
     *     order). Wins over the module's rule.txt.
     */
    public record Http(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("/m") String path,
            @DefaultValue("1MB") DataSize maxRequestSize,
            @DefaultValue("1MB") DataSize maxResponseSize,
            @Nullable Map<String, Middleware> middleware) {

        public Http {
            middleware = middleware != null ? Map.copyOf(middleware) : Map.of();
        }

        /** Middleware modules by name (never {@code null}). */
        @Override
        public Map<String, Middleware> middleware() {
            return middleware != null ? middleware : Map.of();
        }
    }

    /**
     * One middleware module: {@code tinywasm.wasi.http.middleware.NAME=RULE}, or {@code ...NAME.rule} and
     * {@code ...NAME.order}.
     *
     * @param rule The routes (target module names) it applies to, in tinywasm/wasi's grammar. Empty: every module.
     * @param order Its place in the pipeline: lower runs first; modules of equal order run in name order.
     */
    public record Middleware(@Nullable String rule, @DefaultValue("0") int order) {

        /** {@code tinywasm.wasi.http.middleware.NAME=RULE}: the rule alone, at order 0. */
        public static Middleware of(String rule) {
            return new Middleware(rule, 0);
        }
    }

    /**
     * Settings of one module.
     *
     * @param http How the module answers HTTP.
     * @param publish Topics the module may publish to, as patterns ("*" one dot-separated segment, a final ">" the
     *     rest). Unset: any topic. A publish outside them traps the guest's call and is counted as denied.
     * @param subscribe Topics the module may subscribe to, as patterns. Unset: any topic. A forbidden subscribe in
     *     init fails the load (an older version keeps serving).
     * @param broadcast WebSocket topics the module may ws_broadcast to, as patterns. Unset: any topic.
     */
    public record Module(@DefaultValue ModuleHttp http, @Nullable List<String> publish, @Nullable List<String> subscribe,
            @Nullable List<String> broadcast) {

        /** The engine's capabilities these settings describe. */
        public Capabilities capabilities() {
            return Capabilities.of(publish, subscribe, broadcast).withHttp(http.access());
        }
    }

    /**
     * How one module answers HTTP.
     *
     * @param poolSize Instances of the serving version that answer HTTP requests in parallel (for stateless handlers;
     *     each has its own memory); bus messages still go to the one serving instance. 1 to 64.
     * @param enabled Whether the module receives HTTP requests at all. False: requests to it are answered 403 before
     *     any guest runs (counted as denied), and it is skipped as a middleware.
     * @param paths Paths within the module (after PATH/NAME) it may be asked for, as patterns: '/'-separated segments
     *     starting with '/', "*" one segment, a final "**" the rest (zero or more segments). Unset: any path. A request
     *     to another path is answered 403 before any guest runs and counted as denied.
     */
    public record ModuleHttp(@DefaultValue("1") int poolSize, @DefaultValue("true") boolean enabled,
            @Nullable List<String> paths) {

        /** The engine's HTTP access these settings describe. */
        public HttpAccess access() {
            return HttpAccess.of(enabled, paths);
        }
    }

    /** Each configured module's capabilities, by module name (modules without any are left out: they may do all). */
    public Map<String, Capabilities> capabilities() {
        Map<String, Capabilities> all = new LinkedHashMap<>();
        modules().forEach((name, m) -> {
            Capabilities c = m.capabilities();
            if (!c.unrestricted()) {
                all.put(name, c);
            }
        });
        return all;
    }

    /** The engine's HTTP configuration these properties describe. */
    public HttpConfig httpConfig() {
        Map<String, HttpConfig.Middleware> middleware = new LinkedHashMap<>();
        http.middleware().forEach((name, m) -> middleware.put(name, new HttpConfig.Middleware(m.rule(), m.order())));
        Map<String, Integer> pools = new LinkedHashMap<>();
        modules().forEach((name, m) -> {
            if (m.http().poolSize() != 1) {
                pools.put(name, m.http().poolSize());
            }
        });
        return new HttpConfig(http.maxRequestSize().toBytes(), http.maxResponseSize().toBytes(), middleware, pools,
                http.path());
    }

    /** The engine configuration these properties describe, modules read from {@code modulesFolder} (or none). */
    public WasiConfig toConfig(@Nullable Path modulesFolder) {
        WasiConfig.Builder b = WasiConfig.builder()
                .modulesDir(modulesFolder)
                .watch(watch)
                .watchQuietPeriod(watchQuietPeriod)
                .watchPollInterval(watchPollInterval)
                .drainTimeout(drainTimeout)
                .engine(engine)
                .mailboxCapacity(mailbox.capacity())
                .overflowPolicy(mailbox.overflow())
                .publishTimeout(mailbox.publishTimeout())
                .maxMemoryBytes(maxMemory.toBytes())
                .maxModuleSize(maxModuleSize.toBytes())
                .callTimeout(callTimeout)
                .directories(preopenedDirs())
                .http(httpConfig())
                .compileCache(new CompileCacheConfig(cacheDir, cache.maxSize().toBytes(), cache.memoryEntries(),
                        cache.memoryMaxSize().toBytes()))
                .probation(new ProbationConfig(deploy.probation(), deploy.maxTraps()))
                .capabilities(capabilities())
                .poison(new PoisonConfig(deadLetterTopic, quarantine.after()));
        if (workerThreads > 0) {
            b.workerThreads(workerThreads);
        }
        if (subscriberThreads > 0) {
            b.subscriberThreads(subscriberThreads);
        }
        return b.build();
    }
}
