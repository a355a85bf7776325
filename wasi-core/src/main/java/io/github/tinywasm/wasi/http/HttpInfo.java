package io.github.tinywasm.wasi.http;

import org.jspecify.annotations.Nullable;

/**
 * How one module answers HTTP, in a snapshot ({@link io.github.tinywasm.wasi.ModuleInfo#http()}).
 *
 * @param mode how its serving version answers; {@link HttpMode#NONE} when none serves
 * @param middleware its middleware rule ({@link HttpRule#text()}), or {@code null} when it is not a middleware (then it
 *     is a target: {@code /m/<name>})
 * @param ruleSource where the rule comes from: {@code tinywasm.wasi.http.middleware.<name>} or the path of its
 *     {@code rule.txt}; {@code null} when it is not a middleware
 * @param order its place in the pipeline, when it is a middleware
 * @param poolSize instances of the serving version that answer HTTP in parallel
 * @param requests HTTP requests the module was asked to handle (as target or middleware) and accepted
 * @param errors those that failed with an error of the module: trap, call timeout, a bad {@code http_*} call, a response
 *     over the maximum size (answered 500 or 504; for a middleware the pipeline went on)
 * @param rejected requests refused because its mailbox was full (answered 503 with {@code Retry-After})
 */
public record HttpInfo(HttpMode mode, @Nullable String middleware, @Nullable String ruleSource, int order, int poolSize, long requests,
        long errors, long rejected) {

    /** Whether the module is a middleware (and so never a target). */
    public boolean isMiddleware() {
        return middleware != null;
    }
}
