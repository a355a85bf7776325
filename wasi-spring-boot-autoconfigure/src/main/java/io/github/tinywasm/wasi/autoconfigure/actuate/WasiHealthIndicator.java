package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.ModuleState;
import io.github.tinywasm.wasi.WasiServer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Health of the hosted modules ({@code wasi}): UP when every module serves, with each module's state in the
 * details. A module whose latest version failed to load while an older one still serves is reported in the
 * details ({@code lastLoadFailed}, {@code lastError}) but keeps the status UP; a module with no version
 * serving makes it DOWN. OUT_OF_SERVICE while the server is stopped.
 */
public class WasiHealthIndicator extends AbstractHealthIndicator {

    private final WasiServer server;

    public WasiHealthIndicator(WasiServer server) {
        super("WASI health check failed");
        this.server = server;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        if (!server.isRunning()) {
            builder.outOfService().withDetail("running", false);
            return;
        }
        boolean down = false;
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
            down |= m.state() == ModuleState.FAILED;
        }
        (down ? builder.down() : builder.up()).withDetail("modules", modules);
    }
}
