package io.github.tinywasm.wasi.http;

import java.util.List;
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
 * @param enabled whether the module receives HTTP at all ({@code modules.<name>.http.enabled}); when not, requests to
 *     it are answered 403 and it is left out of every middleware pipeline
 * @param paths the path patterns it may be asked for as a target ({@code modules.<name>.http.paths}, relative to
 *     {@code {http.path}/{name}}), as written; {@code null}: any path
 */
public record HttpInfo(HttpMode mode, @Nullable String middleware, @Nullable String ruleSource, int order, int poolSize, long requests,
        long errors, long rejected, boolean enabled, @Nullable List<String> paths) {

    public HttpInfo {
        paths = paths != null ? List.copyOf(paths) : null;
    }

    /** Whether the module is a middleware (and so never a target). */
    public boolean isMiddleware() {
        return middleware != null;
    }
}
