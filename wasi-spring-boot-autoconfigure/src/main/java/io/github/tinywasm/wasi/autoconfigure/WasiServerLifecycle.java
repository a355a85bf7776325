package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import java.io.IOException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.io.ResourceLoader;

/**
 * Runs the {@link WasiServer} with the application context: modules load when the context starts and are
 * drained and unloaded when it stops.
 *
 * <p>Phase {@link #PHASE} ({@code DEFAULT_PHASE - 3072}) is lower than the web server's start/stop phase
 * ({@code DEFAULT_PHASE - 2048}) and its graceful shutdown ({@code DEFAULT_PHASE - 1024}): modules are ready
 * before the port accepts the first request, and they drain only after ingress has stopped, so nothing
 * accepted is lost. A modules location that cannot be used fails the start-up here, before the port opens, with a
 * {@link ModulesLocationException}. Modules of a {@code classpath:} location are loaded here, once, through
 * {@link WasiServer#load(String, byte[])}. {@link #stop(Runnable)} drains on its own thread, {@code wasi-shutdown},
 * so Spring's per-phase timeout applies to it.
 *
 * <p>Threads: {@link #start()} and {@link #stop()} are called by Spring's lifecycle processor, one at a time.
 */
public class WasiServerLifecycle implements SmartLifecycle {

    /** Start early, stop late: see the class comment. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 3072;

    private static final Logger log = LoggerFactory.getLogger(WasiServerLifecycle.class);

    private final WasiServer server;
    private final @Nullable ModulesLocation location;
    private final @Nullable ResourceLoader resourceLoader;
    private final @Nullable Duration shutdownPhaseTimeout;

    /** What {@code WasiServer.stop()} may take beyond the drain timeout (interrupted calls, a load in progress). */
    private static final Duration STOP_GRACE = Duration.ofSeconds(2);

    /**
     * @param server the server to run
     * @param location where its modules are, or {@code null} when the server's own configuration says it
     * @param resourceLoader loads the modules of a {@code classpath:} location
     * @param shutdownPhaseTimeout Spring's {@code spring.lifecycle.timeout-per-shutdown-phase}, to warn about a
     *     drain timeout that does not fit in it
     */
    public WasiServerLifecycle(WasiServer server, @Nullable ModulesLocation location,
            @Nullable ResourceLoader resourceLoader, @Nullable Duration shutdownPhaseTimeout) {
        this.server = server;
        this.location = location;
        this.resourceLoader = resourceLoader;
        this.shutdownPhaseTimeout = shutdownPhaseTimeout;
    }

    /** A life cycle for a server whose modules folder is in its own configuration. */
    public WasiServerLifecycle(WasiServer server, @Nullable Duration shutdownPhaseTimeout) {
        this(server, null, null, shutdownPhaseTimeout);
    }

    @Override
    public void start() {
        ModulesLocation where = location;
        if (where == null && server.config().modulesDir() != null) {
            where = ModulesLocation.of(server.config().modulesDir().toString());
        }
        if (where != null) {
            where.prepareFolder();
        }
        // stop() is bounded by the drain timeout plus up to 2 s of grace for interrupted calls (WasiServer.stop)
        Duration stopBound = server.config().drainTimeout().plus(STOP_GRACE);
        if (shutdownPhaseTimeout != null && stopBound.compareTo(shutdownPhaseTimeout) >= 0) {
            log.warn("tinywasm.wasi.drain-timeout ({}) plus {} s of grace is not below"
                    + " spring.lifecycle.timeout-per-shutdown-phase ({}): Spring may stop waiting before modules have"
                    + " drained", server.config().drainTimeout(), STOP_GRACE.toSeconds(), shutdownPhaseTimeout);
        }
        server.start();
        if (where != null && where.readOnly() && resourceLoader != null) {
            loadClasspathModules(where, resourceLoader);
        }
    }

    private void loadClasspathModules(ModulesLocation where, ResourceLoader loader) {
        for (ModulesLocation.ClasspathModule module : where.classpathModules(loader)) {
            byte[] bytes;
            try {
                bytes = module.read(server.config().maxModuleSize());
            } catch (IOException e) {
                log.error("[{}] cannot read {}: {}", module.name(), module.resource().getDescription(), e.toString());
                continue;
            }
            try {
                server.load(module.name(), bytes);
                log.info("[{}] loaded from {} (read-only)", module.name(), module.resource().getDescription());
            } catch (WasiModuleException e) {
                // recorded on the module's slot (FAILED) and logged by it; the other modules load
            } catch (IllegalArgumentException e) {
                log.error("[{}] {} is not a usable module name: {}", module.name(), module.resource().getDescription(),
                        e.getMessage());
            }
        }
    }

    @Override
    public void stop() {
        server.stop();
    }

    @Override
    public void stop(Runnable callback) {
        Thread t = new Thread(() -> {
            try {
                server.stop();
            } finally {
                callback.run();
            }
        }, "wasi-shutdown");
        t.start();
    }

    @Override
    public boolean isRunning() {
        return server.isRunning();
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
