package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ModuleDescriptor;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ReloadFailure;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ReloadOutcome;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;

/**
 * HTTP statuses of the {@code wasi} endpoint: {@code GET /actuator/wasi/{name}} answers 404 for an unknown module.
 * {@code POST /actuator/wasi/{name}} (reload; {@code {"force": true}} to reload the serving bytes),
 * {@code POST /actuator/wasi/{name}/reload}, {@code .../rollback}, {@code .../validate} and
 * {@code DELETE /actuator/wasi/{name}} answer 200 with the outcome ({@code RELOADED}, {@code UNCHANGED},
 * {@code ROLLED_BACK}, {@code VALID}, {@code UNLOADED}), 422 with the error when the file does not load or validate or
 * the previous version does not start (what served keeps serving), 409 for a rollback without a previous version or a
 * reload of a module from a read-only ({@code classpath:}) location, 404 for an unknown module or operation. Error
 * bodies name the module and the error, never a server path.
 */
@EndpointWebExtension(endpoint = WasiEndpoint.class)
public class WasiEndpointWebExtension {

    /** Status of an operation whose file or version did not load. */
    public static final int STATUS_UNPROCESSABLE_CONTENT = 422;

    /** Status of a reload of a read-only module, or of a rollback without a previous version. */
    public static final int STATUS_CONFLICT = 409;

    private final WasiEndpoint delegate;

    public WasiEndpointWebExtension(WasiEndpoint delegate) {
        this.delegate = delegate;
    }

    @ReadOperation
    public WebEndpointResponse<ModuleDescriptor> module(@Selector String name) {
        ModuleDescriptor module = delegate.module(name);
        return module != null ? new WebEndpointResponse<>(module)
                : new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
    }

    /** Reload without force: what {@code POST /actuator/wasi/{name}} with an empty body does. */
    public WebEndpointResponse<Object> reload(String name) {
        return reload(name, null);
    }

    @WriteOperation
    public WebEndpointResponse<Object> reload(@Selector String name, @Nullable Boolean force) {
        return response(delegate.reload(name, force));
    }

    @WriteOperation
    public WebEndpointResponse<Object> operation(@Selector String name, @Selector String operation,
            @Nullable Boolean force) {
        return response(delegate.operation(name, operation, force));
    }

    @DeleteOperation
    public WebEndpointResponse<Object> unload(@Selector String name) {
        return response(delegate.unload(name));
    }

    private static WebEndpointResponse<Object> response(ReloadOutcome outcome) {
        return switch (outcome.result()) {
            case RELOADED, UNCHANGED, ROLLED_BACK, VALID, UNLOADED -> new WebEndpointResponse<>(outcome);
            case FAILED -> failure(outcome, String.valueOf(outcome.kind()),
                    "BUSY".equals(outcome.kind()) ? STATUS_CONFLICT : STATUS_UNPROCESSABLE_CONTENT);
            case NO_PREVIOUS_VERSION -> failure(outcome, "NO_PREVIOUS_VERSION", STATUS_CONFLICT);
            case NOT_FOUND -> failure(outcome, "NOT_FOUND", WebEndpointResponse.STATUS_NOT_FOUND);
            case READ_ONLY -> failure(outcome, "READ_ONLY", STATUS_CONFLICT);
        };
    }

    private static WebEndpointResponse<Object> failure(ReloadOutcome outcome, String kind, int status) {
        return new WebEndpointResponse<>(new ReloadFailure(outcome.name(), kind, String.valueOf(outcome.error())), status);
    }
}
