package io.github.tinywasm.wasi.http;

import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * HTTP settings of a {@link io.github.tinywasm.wasi.WasiServer} (part of its {@code WasiConfig}).
 *
 * @param maxRequestSize the largest request body a guest may receive, in bytes; a larger one is answered 413 before any
 *     guest runs
 * @param maxResponseSize the largest response body a guest may produce, in bytes; a larger one is answered 500 and
 *     counted as the module's error
 * @param middleware middleware rules by module name; they win over the module's {@code rule.txt}
 * @param poolSizes instances answering HTTP in parallel, by module name (1, the default, is the module's one instance)
 * @param basePath the route's base path ({@code /m} by default): a request's path within its module, which a module's
 *     {@code http.paths} capability is matched against, is what follows {@code basePath/name}
 */
public record HttpConfig(long maxRequestSize, long maxResponseSize, Map<String, Middleware> middleware,
        Map<String, Integer> poolSizes, String basePath) {

    /** The route's default base path. */
    public static final String DEFAULT_BASE_PATH = "/m";

    /** The most instances of one module that may answer HTTP in parallel. */
    public static final int MAX_POOL_SIZE = 64;

    /** 1 MiB requests and responses, no configured middleware, one instance per module. */
    public static final HttpConfig DEFAULTS = new HttpConfig(1 << 20, 1 << 20, Map.of(), Map.of(), DEFAULT_BASE_PATH);

    /** Settings under the default base path. */
    public HttpConfig(long maxRequestSize, long maxResponseSize, Map<String, Middleware> middleware,
            Map<String, Integer> poolSizes) {
        this(maxRequestSize, maxResponseSize, middleware, poolSizes, DEFAULT_BASE_PATH);
    }

    /**
     * A configured middleware.
     *
     * @param rule the rule in the original's grammar ({@link HttpRule#parse}); {@code null} or empty: every route
     * @param order its place in the pipeline (lower first; modules of equal order run in name order)
     */
    public record Middleware(@Nullable String rule, int order) {
        /** The parsed rule. */
        public HttpRule parsedRule() {
            return HttpRule.parse(rule);
        }
    }

    public HttpConfig {
        if (maxRequestSize < 0 || maxRequestSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxRequestSize must be between 0 and 2 GiB, was " + maxRequestSize);
        }
        if (maxResponseSize < 0 || maxResponseSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxResponseSize must be between 0 and 2 GiB, was " + maxResponseSize);
        }
        Objects.requireNonNull(basePath, "basePath");
        if (!basePath.startsWith("/") || (basePath.length() > 1 && basePath.endsWith("/"))) {
            throw new IllegalArgumentException("basePath must start with '/' and not end with '/', was '" + basePath + "'");
        }
        middleware = Map.copyOf(Objects.requireNonNull(middleware, "middleware"));
        poolSizes = Map.copyOf(Objects.requireNonNull(poolSizes, "poolSizes"));
        poolSizes.forEach((module, size) -> {
            if (size == null || size < 1 || size > MAX_POOL_SIZE) {
                throw new IllegalArgumentException("pool size of module '" + module + "' must be between 1 and "
                        + MAX_POOL_SIZE + ", was " + size);
            }
        });
    }

    /** How many instances of {@code module} answer HTTP: 1 unless configured. */
    public int poolSize(String module) {
        Integer n = poolSizes.get(module);
        return n != null ? n : 1;
    }

    /** This configuration with other body limits. */
    public HttpConfig withLimits(long maxRequestSize, long maxResponseSize) {
        return new HttpConfig(maxRequestSize, maxResponseSize, middleware, poolSizes, basePath);
    }

    /** This configuration under another base path. */
    public HttpConfig withBasePath(String basePath) {
        return new HttpConfig(maxRequestSize, maxResponseSize, middleware, poolSizes, basePath);
    }

    /** This configuration with {@code module} a middleware of {@code rule} at {@code order}. */
    public HttpConfig withMiddleware(String module, String rule, int order) {
        java.util.Map<String, Middleware> more = new java.util.HashMap<>(middleware);
        more.put(module, new Middleware(rule, order));
        return new HttpConfig(maxRequestSize, maxResponseSize, more, poolSizes, basePath);
    }

    /** This configuration with {@code size} instances of {@code module} answering HTTP. */
    public HttpConfig withPoolSize(String module, int size) {
        java.util.Map<String, Integer> more = new java.util.HashMap<>(poolSizes);
        more.put(module, size);
        return new HttpConfig(maxRequestSize, maxResponseSize, middleware, more, basePath);
    }
}
