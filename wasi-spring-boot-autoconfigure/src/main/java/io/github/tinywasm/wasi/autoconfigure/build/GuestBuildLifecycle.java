package io.github.tinywasm.wasi.autoconfigure.build;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs the {@link GuestBuilds} with the application context: at start, builds the modules whose {@code .wasm} is
 * missing and then watches their sources; at stop, stops watching and kills running builds.
 *
 * <p>Phase {@link #PHASE} ({@code DEFAULT_PHASE - 4096}) is lower than the server's ({@code DEFAULT_PHASE - 3072}),
 * so the missing modules are built and deployed before the server loads its modules folder, and the builds stop
 * only after the server has. {@link #start()} blocks until those first builds end (each within
 * {@code tinywasm.wasi.build.timeout}).
 */
public class GuestBuildLifecycle implements SmartLifecycle {

    /** Before the server's phase: see the class comment. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private static final Logger log = LoggerFactory.getLogger(GuestBuildLifecycle.class);

    private final GuestBuilds builds;
    private final WasiServer server;

    public GuestBuildLifecycle(GuestBuilds builds, WasiServer server) {
        this.builds = builds;
        this.server = server;
    }

    @Override
    public void start() {
        if (!server.config().watch()) {
            log.warn("tinywasm.wasi.build.enabled is true but tinywasm.wasi.watch is false: modules built after start-up are"
                    + " deployed to {} but not loaded until the application restarts", builds.config().modulesDir().toAbsolutePath());
        }
        builds.start();
    }

    @Override
    public void stop() {
        builds.stop();
    }

    @Override
    public boolean isRunning() {
        return builds.isRunning();
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
