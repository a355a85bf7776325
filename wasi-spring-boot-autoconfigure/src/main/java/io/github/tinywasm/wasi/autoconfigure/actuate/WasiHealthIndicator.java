package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.ModuleState;
import io.github.tinywasm.wasi.WasiServer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Health of the hosted modules ({@code wasi}), with each module's state in the details. UP while the server runs,
 * OUT_OF_SERVICE while it is stopped.
 *
 * <p>A module whose latest version failed to load while an older one still serves is reported in the details
 * ({@code lastLoadFailed}, {@code lastError}) and keeps the status UP. A module that failed to load and never
 * served ({@code FAILED}) is reported the same way and, by default, keeps the status UP too: one bad file must
 * not pull every node out of a load balancer while the other modules serve. With
 * {@code tinywasm.wasi.health.down-on-failed-module=true} it makes the status DOWN. A quarantined module
 * ({@code QUARANTINED}: it failed on {@code quarantine.after} messages in a row) is listed with that state and counted
 * in {@code quarantinedModules}; the status stays UP.
 */
public class WasiHealthIndicator extends AbstractHealthIndicator {

    private final WasiServer server;
    private final boolean downOnFailedModule;

    public WasiHealthIndicator(WasiServer server) {
        this(server, false);
    }

    /** @param downOnFailedModule whether a module that failed to load and never served makes the status DOWN */
    public WasiHealthIndicator(WasiServer server, boolean downOnFailedModule) {
        super("WASI health check failed");
        this.server = server;
        this.downOnFailedModule = downOnFailedModule;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        if (!server.isRunning()) {
            builder.outOfService().withDetail("running", false);
            return;
        }
        int failed = 0;
        int quarantined = 0;
        Map<String, Object> modules = new LinkedHashMap<>();
        for (ModuleInfo m : server.modules()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("state", m.state().name());
            d.put("topics", m.topics());
            if (m.lastLoadFailed()) {
                d.put("lastLoadFailed", true);
                d.put("lastError", m.lastError());
            }
            modules.put(m.name(), d);
            if (m.state() == ModuleState.FAILED) {
                failed++;
            } else if (m.state() == ModuleState.QUARANTINED) {
                quarantined++;
            }
        }
        (failed > 0 && downOnFailedModule ? builder.down() : builder.up()).withDetail("modules", modules);
        if (failed > 0) {
            builder.withDetail("failedModules", failed);
        }
        if (quarantined > 0) {
            builder.withDetail("quarantinedModules", quarantined);
        }
    }
}
