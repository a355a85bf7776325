package io.github.tinywasm.wasi.autoconfigure.http;

import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationFilter;

/**
 * The {@code tinywasm.module} key of Spring's {@code http.server.requests} observations (and so of the timer of that
 * name): the module a request to {@code /m/{name}} named, when it is loaded, and {@code none} for every other request
 * (so that every {@code http.server.requests} meter has the same keys, as Prometheus requires). Low cardinality: a
 * name that no loaded module has is {@code none}, never the name from the URL.
 */
public final class GuestHttpObservations {

    /** The key's name. */
    public static final String MODULE_KEY = "tinywasm.module";

    /** The key's value for a request that names no loaded module. */
    public static final String NONE = "none";

    private GuestHttpObservations() {}

    /** Sets the key on a server request observation's context (the handlers call it, on the request's thread). */
    static void tag(Observation.Context context, String module) {
        context.addLowCardinalityKeyValue(KeyValue.of(MODULE_KEY, module));
    }

    /** Adds {@code tinywasm.module=none} to the server request observations that did not go to a module. */
    public static ObservationFilter noneForOtherRequests() {
        return context -> {
            if ((context instanceof org.springframework.http.server.observation.ServerRequestObservationContext
                    || context instanceof org.springframework.http.server.reactive.observation.ServerRequestObservationContext)
                    && context.getLowCardinalityKeyValue(MODULE_KEY) == null) {
                context.addLowCardinalityKeyValue(KeyValue.of(MODULE_KEY, NONE));
            }
            return context;
        };
    }
}
