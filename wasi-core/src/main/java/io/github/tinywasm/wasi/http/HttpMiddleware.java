package io.github.tinywasm.wasi.http;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A middleware: a module with a rule. For a request to {@code /m/target/...}, every middleware whose rule matches
 * {@code target} runs before it, ordered by {@code order} (lower first), then by module name; the first that answers
 * ends the pipeline.
 *
 * @param module the middleware module's name
 * @param rule the routes it applies to
 * @param order its place in the pipeline (0 unless configured)
 */
public record HttpMiddleware(String module, HttpRule rule, int order) {

    /** Pipeline order: {@code order}, then module name. */
    public static final Comparator<HttpMiddleware> ORDER =
            Comparator.comparingInt(HttpMiddleware::order).thenComparing(HttpMiddleware::module);

    public HttpMiddleware {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(rule, "rule");
    }

    /**
     * The middlewares that apply to {@code route}, in the order given (the original's {@code applyPipeline}, which
     * keeps registration order); sort with {@link #ORDER} first for the pipeline order.
     */
    public static List<HttpMiddleware> applicable(String route, Collection<HttpMiddleware> middlewares) {
        List<HttpMiddleware> pipeline = new ArrayList<>();
        for (HttpMiddleware m : middlewares) {
            if (m.rule.matches(route)) {
                pipeline.add(m);
            }
        }
        return pipeline;
    }
}
