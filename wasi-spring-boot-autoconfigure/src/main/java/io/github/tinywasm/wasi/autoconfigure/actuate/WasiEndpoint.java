package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.ModuleCounters;
import io.github.tinywasm.wasi.LoadResult;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.ModuleValidation;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.ModulesLocation;
import io.github.tinywasm.wasi.autoconfigure.cluster.ClusterState;
import io.github.tinywasm.wasi.autoconfigure.cluster.ClusterView;
import io.github.tinywasm.wasi.deploy.GuestBuildStatus;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import io.github.tinywasm.wasi.http.HttpInfo;
import io.github.tinywasm.wasi.http.HttpMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code wasi} Actuator endpoint, independent of the technology that exposes it: {@code modules} lists the
 * modules keyed by name, {@code module(name)} shows one (with the SHA-256 of its serving and previous versions),
 * {@code reload(name, force)} reloads one from its file, {@code operation(name, rollback|reload|validate)} rolls it
 * back, reloads or validates it, {@code unload(name)} unloads it; each says how that went. Over HTTP, {@link WasiEndpointWebExtension} turns the outcome of a reload into a status code. With
 * build on change ({@code tinywasm.wasi.build.enabled}), a module's detail carries its build status, and a module
 * whose first build failed (so nothing of it loaded) is shown too, with the compiler's output.
 *
 * <p>Thread-safe: every operation reads snapshots of the server.
 */
@Endpoint(id = "wasi")
public class WasiEndpoint {

    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final WasiServer server;
    private final @Nullable ModulesLocation location;
    private final @Nullable GuestBuilds builds;
    private final @Nullable ClusterView cluster;

    public WasiEndpoint(WasiServer server) {
        this(server, null, null);
    }

    /**
     * @param location where the modules come from (a class path location is read-only), or {@code null}
     * @param builds the guest builds of development mode, or {@code null}
     */
    public WasiEndpoint(WasiServer server, @Nullable ModulesLocation location, @Nullable GuestBuilds builds) {
        this(server, location, builds, null);
    }

    /**
     * @param location where the modules come from (a class path location is read-only), or {@code null}
     * @param builds the guest builds of development mode, or {@code null}
     * @param cluster this node's cluster state, in cluster mode, else {@code null}
     */
    public WasiEndpoint(WasiServer server, @Nullable ModulesLocation location, @Nullable GuestBuilds builds,
            @Nullable ClusterView cluster) {
        this.server = server;
        this.location = location;
        this.builds = builds;
        this.cluster = cluster;
    }

    @ReadOperation
    public ModulesDescriptor modules() {
        Map<String, ModuleDescriptor> modules = new LinkedHashMap<>();
        for (ModuleInfo m : server.modules()) {
            modules.put(m.name(), ModuleDescriptor.of(m));
        }
        Map<String, Long> subscriberDrops = new LinkedHashMap<>();
        server.subscriberDrops().forEach((reason, n) -> subscriberDrops.put(Counters.camelCase(reason.name()), n));
        return new ModulesDescriptor(server.isRunning(), server.publishedCount(), subscriberDrops,
                location != null ? location.location() : null, modules, cluster != null ? cluster.state() : null);
    }

    @ReadOperation
    public @Nullable ModuleDescriptor module(@Selector String name) {
        GuestBuildStatus build = builds != null ? builds.status(name).orElse(null) : null;
        return server.module(name).map(m -> ModuleDescriptor.of(m, build))
                .orElseGet(() -> build != null ? ModuleDescriptor.notLoaded(name, build) : null);
    }

    /**
     * Reloads a module from its file (or loads {@code <modules folder>/<name>.wasm} when it is not loaded yet), unless
     * the file holds the serving version's bytes ({@code UNCHANGED}). A failed reload leaves the serving version in
     * place.
     */
    public ReloadOutcome reload(String name) {
        return reload(name, null);
    }

    /**
     * {@code POST /actuator/wasi/{name}}: reloads a module from its file (see {@link #reload(String)});
     * {@code {"force": true}} swaps even when the file holds the serving version's bytes.
     */
    @WriteOperation
    public ReloadOutcome reload(@Selector String name, @Nullable Boolean force) {
        boolean loaded = server.module(name).isPresent();
        if (!loaded && !fileExists(name)) {
            return notFound(name);
        }
        if (location != null && location.readOnly()) {
            return readOnly(name);
        }
        try {
            LoadResult result = server.reload(name, Boolean.TRUE.equals(force));
            ReloadOutcome.Result outcome = result.outcome() == LoadResult.Outcome.UNCHANGED ? ReloadOutcome.Result.UNCHANGED
                    : ReloadOutcome.Result.RELOADED;
            return new ReloadOutcome(name, outcome, ModuleDescriptor.of(result.module()), null, null, null);
        } catch (WasiModuleException e) {
            return failed(name, e);
        } catch (IllegalArgumentException e) {
            return notFound(name);
        }
    }

    /**
     * {@code POST /actuator/wasi/{name}/{operation}}: {@code reload} (as {@link #reload(String, Boolean)}),
     * {@code rollback} (swap back to the previous version, kept compiled in memory) or {@code validate} (parse, link
     * and compile the module's file; nothing is served).
     */
    @WriteOperation
    public ReloadOutcome operation(@Selector String name, @Selector String operation, @Nullable Boolean force) {
        return switch (operation) {
            case "reload" -> reload(name, force);
            case "rollback" -> rollback(name);
            case "validate" -> validate(name);
            default -> new ReloadOutcome(name, ReloadOutcome.Result.NOT_FOUND, null, null, null,
                    "no operation '" + operation + "' (reload, rollback, validate)");
        };
    }

    /** Swaps a module back to its previous version with the hot-swap protocol. */
    public ReloadOutcome rollback(String name) {
        if (server.module(name).isEmpty()) {
            return notFound(name);
        }
        try {
            LoadResult result = server.rollback(name);
            return new ReloadOutcome(name, ReloadOutcome.Result.ROLLED_BACK, ModuleDescriptor.of(result.module()), null,
                    null, null);
        } catch (WasiModuleException e) {
            return failed(name, e);
        } catch (IllegalStateException e) {
            return new ReloadOutcome(name, ReloadOutcome.Result.NO_PREVIOUS_VERSION, null, null, null, e.getMessage());
        } catch (java.util.NoSuchElementException e) {
            return notFound(name);
        }
    }

    /** Parses, links and compiles a module's file without serving it. */
    public ReloadOutcome validate(String name) {
        if (server.module(name).isEmpty() && !fileExists(name)) {
            return notFound(name);
        }
        try {
            return new ReloadOutcome(name, ReloadOutcome.Result.VALID, null, server.validate(name), null, null);
        } catch (WasiModuleException e) {
            return failed(name, e);
        } catch (IllegalArgumentException e) {
            return notFound(name);
        }
    }

    /**
     * {@code DELETE /actuator/wasi/{name}}: unloads a module (it delivers what it accepted, drains and closes). Its
     * file stays: with the folder watched, the module loads again when the file changes.
     */
    @DeleteOperation
    public ReloadOutcome unload(@Selector String name) {
        try {
            return server.unload(name) ? new ReloadOutcome(name, ReloadOutcome.Result.UNLOADED, null, null, null, null)
                    : notFound(name);
        } catch (IllegalStateException e) {
            return new ReloadOutcome(name, ReloadOutcome.Result.FAILED, null, null, "BUSY", e.getMessage());
        }
    }

    private static ReloadOutcome notFound(String name) {
        return new ReloadOutcome(name, ReloadOutcome.Result.NOT_FOUND, null, null, null, "no module named '" + name + "'");
    }

    private ReloadOutcome readOnly(String name) {
        return new ReloadOutcome(name, ReloadOutcome.Result.READ_ONLY, null, null, null, "module '" + name
                + "' comes from " + (location != null ? location.location() : "the class path")
                + ", which is read-only: it changes with the application");
    }

    private static ReloadOutcome failed(String name, WasiModuleException e) {
        // an I/O error names the file: the log has it, the response body does not show server paths
        String error = e.kind() == WasiModuleException.Kind.IO ? "module '" + name + "': its file cannot be read (see the log)"
                : e.getMessage();
        return new ReloadOutcome(name, ReloadOutcome.Result.FAILED, null, null, e.kind().name(), error);
    }

    private boolean fileExists(String name) {
        Path folder = server.config().modulesDir();
        // the name check keeps the selector inside the folder
        return folder != null && MODULE_NAME.matcher(name).matches()
                && Files.isRegularFile(folder.resolve(name + WasiServer.EXTENSION));
    }

    /**
     * All modules.
     *
     * @param running whether the server runs
     * @param published messages published on the bus so far
     * @param subscriberDropped messages that did not reach a Java subscriber (the event bridge included), by reason
     * @param location where modules come from ({@code tinywasm.wasi.modules-dir}), or {@code null}
     * @param modules every module, by name
     * @param cluster this node's cluster state (node id, connection, outbox, streams read and their lag), or
     *     {@code null} when it is not in a cluster
     */
    public record ModulesDescriptor(boolean running, long published, Map<String, Long> subscriberDropped,
            @Nullable String location, Map<String, ModuleDescriptor> modules, @Nullable ClusterState cluster)
            implements OperationResponseBody {}

    /**
     * One module.
     *
     * @param state the slot's state, or {@code NOT_LOADED} for a module known only from its sources (build on
     *     change) whose first build has not produced a module
     * @param http how the module answers HTTP ({@code /m/{name}}): mode, middleware rule, pool, request counters
     * @param build the module's build status in development mode (detail only), or {@code null}
     * @param sha256 hex SHA-256 of the serving version's bytes
     * @param previousSha256 hex SHA-256 of the version a rollback returns to, or {@code null} if there is none
     */
    public record ModuleDescriptor(String name, String state, List<String> topics, @Nullable String file,
            @Nullable String sha256, @Nullable String previousSha256, long size, @Nullable Instant loadedAt,
            @Nullable String engine, @Nullable Long memoryBytes, @Nullable String lastError, @Nullable Instant lastErrorAt,
            boolean lastLoadFailed, int mailboxDepth, Counters counters, Http http, @Nullable GuestBuildStatus build)
            implements OperationResponseBody {

        /** The state of a module that exists only as sources whose build has not produced a module. */
        public static final String NOT_LOADED = "NOT_LOADED";

        static ModuleDescriptor of(ModuleInfo m) {
            return of(m, null);
        }

        static ModuleDescriptor of(ModuleInfo m, @Nullable GuestBuildStatus build) {
            return new ModuleDescriptor(m.name(), m.state().name(), m.topics(), m.file(), m.sha256(), m.previousSha256(), m.size(),
                    m.loadedAt(), m.engine(), m.memoryBytes(), m.lastError(), m.lastErrorAt(), m.lastLoadFailed(),
                    m.mailboxDepth(), Counters.of(m.counters()), Http.of(m.http()), build);
        }

        static ModuleDescriptor notLoaded(String name, GuestBuildStatus build) {
            return new ModuleDescriptor(name, NOT_LOADED, List.of(), null, null, null, 0, null, null, null,
                    build.lastError(), build.lastFailureAt(), build.failed(), 0, Counters.NONE, Http.NONE, build);
        }
    }

    /**
     * A module's cumulative counters.
     *
     * @param dropped messages that did not reach the module, by reason ({@code mailboxFull}, {@code unsubscribed},
     *     {@code noAllocator}, {@code closed}, {@code noMemory}, {@code quarantined})
     * @param callTimeMs time spent in guest calls, in milliseconds
     * @param rollbacks swaps back to the previous version (asked for or by probation), counted in {@code swaps} too
     * @param denied calls the module's capabilities refused
     * @param deadLettered messages published to the dead-letter topic for it (failed on, or reached it quarantined)
     */
    public record Counters(long published, long broadcasts, long delivered, long errors, long traps, long timeouts,
            Map<String, Long> dropped, long calls, double callTimeMs, long swaps, long failedLoads, long rollbacks, long denied,
            long deadLettered) {

        static final Counters NONE = of(new ModuleCounters(0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0, 0, 0, 0));

        static Counters of(ModuleCounters c) {
            Map<String, Long> dropped = new LinkedHashMap<>();
            for (DropReason r : DropReason.values()) {
                dropped.put(camelCase(r.name()), c.dropped().getOrDefault(r, 0L));
            }
            return new Counters(c.published(), c.broadcasts(), c.delivered(), c.errors(), c.traps(), c.timeouts(),
                    dropped, c.calls(), c.callNanos() / 1_000_000.0, c.swaps(), c.failedLoads(), c.rollbacks(), c.denied(),
                    c.deadLettered());
        }

        private static String camelCase(String constant) {
            StringBuilder out = new StringBuilder();
            for (String part : constant.toLowerCase(Locale.ROOT).split("_")) {
                out.append(out.isEmpty() ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
            }
            return out.toString();
        }
    }

    /**
     * How a module answers HTTP ({@code {tinywasm.wasi.http.path}/{name}/**}).
     *
     * @param mode {@code none} (no {@code handle} or {@code handle_http} export: requests to it get 204),
     *     {@code compatible} ({@code handle}, the original's ABI) or {@code extended} ({@code handle_http})
     * @param middleware its middleware rule ({@code *}, {@code a,b}, {@code -x}), or {@code null} when it is not a
     *     middleware (then it is a target)
     * @param ruleSource where the rule comes from: the property, or the module's {@code rule.txt}
     * @param order its place in the pipeline, when it is a middleware
     * @param poolSize instances answering HTTP in parallel
     * @param requests requests it was asked to handle (as target or middleware)
     * @param errors those that failed with an error of the module (500, 504)
     * @param rejected those refused because its mailbox was full (503)
     * @param enabled whether it receives HTTP at all ({@code modules.<name>.http.enabled}; false: 403, and skipped as
     *     a middleware)
     * @param paths the path patterns it may be asked for ({@code modules.<name>.http.paths}, within
     *     {@code {http.path}/{name}}), as written; {@code null}: any path (others are answered 403, counted as denied)
     */
    public record Http(String mode, @Nullable String middleware, @Nullable String ruleSource, int order, int poolSize,
            long requests, long errors, long rejected, boolean enabled, @Nullable List<String> paths) {

        static final Http NONE = new Http(HttpMode.NONE.tag(), null, null, 0, 1, 0, 0, 0, true, null);

        static Http of(HttpInfo h) {
            return new Http(h.mode().tag(), h.middleware(), h.ruleSource(), h.order(), h.poolSize(), h.requests(),
                    h.errors(), h.rejected(), h.enabled(), h.paths());
        }
    }

    /**
     * How an operation on a module (reload, rollback, validate, unload) went.
     *
     * @param name the module
     * @param result what happened
     * @param module the module after a reload or rollback that happened (or found nothing to do), else {@code null}
     * @param validation what a validation found, else {@code null}
     * @param kind the kind of error ({@link WasiModuleException.Kind}) of a failed operation, else {@code null}
     * @param error why it did not happen, else {@code null}
     */
    public record ReloadOutcome(String name, Result result, @Nullable ModuleDescriptor module,
            @Nullable ModuleValidation validation, @Nullable String kind, @Nullable String error)
            implements OperationResponseBody {

        /** What happened. */
        public enum Result {
            /** The module was reloaded and serves the file's version. */
            RELOADED,
            /** The file holds the serving version's bytes: nothing was done (reload with {@code force} to swap). */
            UNCHANGED,
            /** The module serves its previous version again. */
            ROLLED_BACK,
            /** The file parses, links and compiles (nothing was served). */
            VALID,
            /** The module was unloaded. */
            UNLOADED,
            /** The operation failed; the serving version, if any, keeps serving. */
            FAILED,
            /** A rollback of a module that has no previous version. */
            NO_PREVIOUS_VERSION,
            /** No such module (and no such file in the modules folder), or no such operation. */
            NOT_FOUND,
            /** The module comes from a read-only (class path) location. */
            READ_ONLY
        }
    }

    /** Why a reload did not happen, as the web extension reports it. */
    public record ReloadFailure(String name, String kind, String error) implements OperationResponseBody {}
}
