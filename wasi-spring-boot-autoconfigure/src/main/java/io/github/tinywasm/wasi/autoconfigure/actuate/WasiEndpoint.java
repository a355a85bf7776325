package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

/**
 * The {@code wasi} Actuator endpoint: {@code GET /actuator/wasi} lists the modules, {@code GET
 * /actuator/wasi/{name}} shows one, {@code POST /actuator/wasi/{name}} reloads it from its file (422 with the
 * error when the new version fails to load; the old one keeps serving).
 */
@Endpoint(id = "wasi")
public class WasiEndpoint {

    private final WasiServer server;

    public WasiEndpoint(WasiServer server) {
        this.server = server;
    }

    @ReadOperation
    public ModulesDescriptor modules() {
        return new ModulesDescriptor(server.isRunning(), server.publishedCount(),
                server.modules().stream().map(ModuleDescriptor::of).toList());
    }

    @ReadOperation
    public @Nullable ModuleDescriptor module(@Selector String name) {
        return server.module(name).map(ModuleDescriptor::of).orElse(null);
    }

    @WriteOperation
    public WebEndpointResponse<Object> reload(@Selector String name) {
        try {
            return new WebEndpointResponse<>(ModuleDescriptor.of(server.reload(name)));
        } catch (WasiModuleException e) {
            return new WebEndpointResponse<>(new ReloadFailure(name, e.kind().name(), e.getMessage()),
                    422);
        } catch (IllegalArgumentException e) {
            return new WebEndpointResponse<>(new ReloadFailure(name, "NOT_FOUND", e.getMessage()),
                    WebEndpointResponse.STATUS_NOT_FOUND);
        }
    }

    /** All modules. */
    public record ModulesDescriptor(boolean running, long published, List<ModuleDescriptor> modules)
            implements OperationResponseBody {}

    /** One module, as JSON. */
    public record ModuleDescriptor(String name, String state, List<String> topics, @Nullable String file,
            @Nullable String sha256, long size, @Nullable Instant loadedAt, @Nullable String engine, long memoryBytes,
            @Nullable String lastError, @Nullable Instant lastErrorAt, boolean lastLoadFailed, int mailboxDepth,
            Map<String, Object> counters) implements OperationResponseBody {

        static ModuleDescriptor of(ModuleInfo m) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("published", m.counters().published());
            c.put("broadcasts", m.counters().broadcasts());
            c.put("delivered", m.counters().delivered());
            c.put("errors", m.counters().errors());
            c.put("traps", m.counters().traps());
            c.put("timeouts", m.counters().timeouts());
            Map<String, Long> dropped = new LinkedHashMap<>();
            for (DropReason r : DropReason.values()) {
                dropped.put(r.tag(), m.counters().dropped().getOrDefault(r, 0L));
            }
            c.put("dropped", dropped);
            c.put("calls", m.counters().calls());
            c.put("callTimeMs", m.counters().callNanos() / 1_000_000.0);
            c.put("swaps", m.counters().swaps());
            c.put("failedLoads", m.counters().failedLoads());
            return new ModuleDescriptor(m.name(), m.state().name(), m.topics(), m.file(), m.sha256(), m.size(),
                    m.loadedAt(), m.engine(), m.memoryBytes(), m.lastError(), m.lastErrorAt(), m.lastLoadFailed(),
                    m.mailboxDepth(), c);
        }
    }

    /** Why a reload failed. */
    public record ReloadFailure(String name, String kind, String error) implements OperationResponseBody {}
}
