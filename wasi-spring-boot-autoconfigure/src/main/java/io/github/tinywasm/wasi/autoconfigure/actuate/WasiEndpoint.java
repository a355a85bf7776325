package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.ModuleCounters;
import io.github.tinywasm.wasi.ModuleInfo;
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
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code wasi} Actuator endpoint, independent of the technology that exposes it: {@code modules} lists the
 * modules keyed by name, {@code module(name)} shows one, {@code reload(name)} reloads one from its file and says how
 * that went. Over HTTP, {@link WasiEndpointWebExtension} turns the outcome of a reload into a status code. With
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
     * Reloads a module from its file (or loads {@code <modules folder>/<name>.wasm} when it is not loaded yet). A
     * failed reload leaves the serving version in place.
     */
    @WriteOperation
    public ReloadOutcome reload(@Selector String name) {
        boolean loaded = server.module(name).isPresent();
        if (!loaded && !fileExists(name)) {
            return new ReloadOutcome(name, ReloadOutcome.Result.NOT_FOUND, null, null, "no module named '" + name + "'");
        }
        if (location != null && location.readOnly()) {
            return new ReloadOutcome(name, ReloadOutcome.Result.READ_ONLY, null, null, "module '" + name
                    + "' comes from " + location.location() + ", which is read-only: it changes with the application");
        }
        try {
            return new ReloadOutcome(name, ReloadOutcome.Result.RELOADED, ModuleDescriptor.of(server.reload(name)), null, null);
        } catch (WasiModuleException e) {
            return new ReloadOutcome(name, ReloadOutcome.Result.FAILED, null, e.kind().name(), e.getMessage());
        } catch (IllegalArgumentException e) {
            return new ReloadOutcome(name, ReloadOutcome.Result.NOT_FOUND, null, null, "no module named '" + name + "'");
        }
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
     */
    public record ModuleDescriptor(String name, String state, List<String> topics, @Nullable String file,
            @Nullable String sha256, long size, @Nullable Instant loadedAt, @Nullable String engine,
            @Nullable Long memoryBytes, @Nullable String lastError, @Nullable Instant lastErrorAt,
            boolean lastLoadFailed, int mailboxDepth, Counters counters, Http http, @Nullable GuestBuildStatus build)
            implements OperationResponseBody {

        /** The state of a module that exists only as sources whose build has not produced a module. */
        public static final String NOT_LOADED = "NOT_LOADED";

        static ModuleDescriptor of(ModuleInfo m) {
            return of(m, null);
        }

        static ModuleDescriptor of(ModuleInfo m, @Nullable GuestBuildStatus build) {
            return new ModuleDescriptor(m.name(), m.state().name(), m.topics(), m.file(), m.sha256(), m.size(),
                    m.loadedAt(), m.engine(), m.memoryBytes(), m.lastError(), m.lastErrorAt(), m.lastLoadFailed(),
                    m.mailboxDepth(), Counters.of(m.counters()), Http.of(m.http()), build);
        }

        static ModuleDescriptor notLoaded(String name, GuestBuildStatus build) {
            return new ModuleDescriptor(name, NOT_LOADED, List.of(), null, null, 0, null, null, null,
                    build.lastError(), build.lastFailureAt(), build.failed(), 0, Counters.NONE, Http.NONE, build);
        }
    }

    /**
     * A module's cumulative counters.
     *
     * @param dropped messages that did not reach the module, by reason ({@code mailboxFull}, {@code unsubscribed},
     *     {@code noAllocator}, {@code closed}, {@code noMemory})
     * @param callTimeMs time spent in guest calls, in milliseconds
     */
    public record Counters(long published, long broadcasts, long delivered, long errors, long traps, long timeouts,
            Map<String, Long> dropped, long calls, double callTimeMs, long swaps, long failedLoads) {

        static final Counters NONE = of(new ModuleCounters(0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0));

        static Counters of(ModuleCounters c) {
            Map<String, Long> dropped = new LinkedHashMap<>();
            for (DropReason r : DropReason.values()) {
                dropped.put(camelCase(r.name()), c.dropped().getOrDefault(r, 0L));
            }
            return new Counters(c.published(), c.broadcasts(), c.delivered(), c.errors(), c.traps(), c.timeouts(),
                    dropped, c.calls(), c.callNanos() / 1_000_000.0, c.swaps(), c.failedLoads());
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
     */
    public record Http(String mode, @Nullable String middleware, @Nullable String ruleSource, int order, int poolSize,
            long requests, long errors, long rejected) {

        static final Http NONE = new Http(HttpMode.NONE.tag(), null, null, 0, 1, 0, 0, 0);

        static Http of(HttpInfo h) {
            return new Http(h.mode().tag(), h.middleware(), h.ruleSource(), h.order(), h.poolSize(), h.requests(),
                    h.errors(), h.rejected());
        }
    }

    /**
     * How a reload went.
     *
     * @param name the module
     * @param result what happened
     * @param module the module after a successful reload, else {@code null}
     * @param kind the kind of error ({@link WasiModuleException.Kind}) of a failed reload, else {@code null}
     * @param error why it did not reload, else {@code null}
     */
    public record ReloadOutcome(String name, Result result, @Nullable ModuleDescriptor module, @Nullable String kind,
            @Nullable String error) implements OperationResponseBody {

        /** What happened to a reload. */
        public enum Result {
            /** The module was reloaded and serves the file's version. */
            RELOADED,
            /** The file could not be loaded; the serving version, if any, keeps serving. */
            FAILED,
            /** No such module, and no such file in the modules folder. */
            NOT_FOUND,
            /** The module comes from a read-only (class path) location. */
            READ_ONLY
        }
    }

    /** Why a reload did not happen, as the web extension reports it. */
    public record ReloadFailure(String name, String kind, String error) implements OperationResponseBody {}
}
