package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the {@link WasiServer} with the application context: modules load when the context starts and are
 * drained and unloaded when it stops.
 *
 * <p>Phase {@link #PHASE} ({@code DEFAULT_PHASE - 3072}) is lower than the web server's start/stop phase
 * ({@code DEFAULT_PHASE - 2048}) and its graceful shutdown ({@code DEFAULT_PHASE - 1024}): modules are ready
 * before the port accepts the first request, and they drain only after ingress has stopped, so nothing
 * accepted is lost. {@link #stop(Runnable)} drains on its own thread, {@code wasi-shutdown}, so Spring's
 * per-phase timeout applies to it.
 */
public class WasiServerLifecycle implements SmartLifecycle {

    /** Start early, stop late: see the class comment. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 3072;

    private static final Logger log = LoggerFactory.getLogger(WasiServerLifecycle.class);

    private final WasiServer server;
    private final Duration shutdownPhaseTimeout;

    public WasiServerLifecycle(WasiServer server, Duration shutdownPhaseTimeout) {
        this.server = server;
        this.shutdownPhaseTimeout = shutdownPhaseTimeout;
    }

    @Override
    public void start() {
        Path dir = server.config().modulesDir();
        if (dir != null) {
            prepare(dir);
        }
        if (shutdownPhaseTimeout != null && server.config().drainTimeout().compareTo(shutdownPhaseTimeout) >= 0) {
            log.warn("tinywasm.wasi.drain-timeout ({}) is not below spring.lifecycle.timeout-per-shutdown-phase ({}):"
                    + " Spring may stop waiting before modules have drained", server.config().drainTimeout(), shutdownPhaseTimeout);
        }
        server.start();
    }

    private static void prepare(Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (Files.exists(dir)) {
            throw new IllegalStateException("tinywasm.wasi.modules-dir " + dir.toAbsolutePath() + " is not a directory");
        }
        try {
            Files.createDirectories(dir);
            log.info("Created the empty modules folder {} (tinywasm.wasi.modules-dir): put *.wasm files there", dir.toAbsolutePath());
        } catch (IOException e) {
            throw new IllegalStateException("tinywasm.wasi.modules-dir " + dir.toAbsolutePath()
                    + " does not exist and cannot be created: " + e, e);
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
