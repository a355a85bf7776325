package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ModuleDescriptor;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ReloadFailure;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint.ReloadOutcome;
import java.util.Objects;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;

/**
 * HTTP statuses of the {@code wasi} endpoint: {@code GET /actuator/wasi/{name}} answers 404 for an unknown module;
 * {@code POST /actuator/wasi/{name}} answers 200 with the reloaded module, 422 with the error when the file does not
 * load (the old version keeps serving), 404 for an unknown module, 409 for a module from a read-only
 * ({@code classpath:}) location. Error bodies name the module and the error, never a server path.
 */
@EndpointWebExtension(endpoint = WasiEndpoint.class)
public class WasiEndpointWebExtension {

    /** Status of a reload whose file did not load. */
    public static final int STATUS_UNPROCESSABLE_CONTENT = 422;

    /** Status of a reload of a read-only module. */
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

    @WriteOperation
    public WebEndpointResponse<Object> reload(@Selector String name) {
        ReloadOutcome outcome = delegate.reload(name);
        return switch (outcome.result()) {
            case RELOADED -> new WebEndpointResponse<>(Objects.requireNonNull(outcome.module()));
            case FAILED -> failure(outcome, String.valueOf(outcome.kind()), STATUS_UNPROCESSABLE_CONTENT);
            case NOT_FOUND -> failure(outcome, "NOT_FOUND", WebEndpointResponse.STATUS_NOT_FOUND);
            case READ_ONLY -> failure(outcome, "READ_ONLY", STATUS_CONFLICT);
        };
    }

    private static WebEndpointResponse<Object> failure(ReloadOutcome outcome, String kind, int status) {
        return new WebEndpointResponse<>(new ReloadFailure(outcome.name(), kind, String.valueOf(outcome.error())), status);
    }
}
