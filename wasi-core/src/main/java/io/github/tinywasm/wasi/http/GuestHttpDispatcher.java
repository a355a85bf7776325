package io.github.tinywasm.wasi.http;

import io.github.tinywasm.wasi.module.ModuleSlot;
import io.github.tinywasm.wasi.policy.HttpAccess;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers HTTP requests with guests: tinywasm/wasi's {@code /m/{name}} dispatch with its middleware pipeline, for any
 * web stack ({@link io.github.tinywasm.wasi.WasiServer#http()}; the Spring auto-configuration adapts Spring MVC and
 * WebFlux to it).
 *
 * <p>For a request to module {@code name}:
 * <ol>
 * <li>no name: 400 {@code Module name required}; a body over {@code maxRequestSize}: 413, before any guest runs;
 * <li>no such module serving, or a middleware (a middleware is never a target): 404;
 * <li>a module whose capabilities refuse the request ({@code modules.<name>.http.enabled} false, or a path within it,
 *     {@link #pathInModule}, that none of its {@code http.paths} matches): 403 naming the module and the path, before
 *     any guest runs (no middleware either), counted in the module's {@code denied} counter and logged, once per
 *     module and reason every {@value #DENIAL_LOG_INTERVAL_SECONDS} seconds at most;
 * <li>every middleware whose rule matches {@code name} runs first, in {@link HttpMiddleware#ORDER} (one whose HTTP is
 *     disabled is skipped, as if it had no rule): the first that answers ends the pipeline with its response; one that
 *     fails is logged (and counted) and the pipeline goes on, as in the original; the headers a middleware sets
 *     ({@code http_request_set_header}) reach the modules after it;
 * <li>then the target answers: its response; 204 when it replies nothing; 500 naming the module and the error when it
 *     traps or breaks the ABI; 504 past the call timeout.
 * </ol>
 * A module whose mailbox is full answers 503 with {@code Retry-After} at once (the request thread never waits), as does
 * one unloaded before it could answer. Each step is a request in that module's mailbox: the same instance, in one order
 * with the bus's messages.
 *
 * <p>Thread-safe and non-blocking: {@link #dispatch} only queues; the result completes on the worker thread of the
 * module that answered (or on the calling thread for an answer the host gives at once). Whoever waits for it must not
 * block that thread for long.
 */
public final class GuestHttpDispatcher {

    private static final Logger log = LoggerFactory.getLogger(GuestHttpDispatcher.class);

    /** The shortest interval between two log lines about one module's refused requests for one reason. */
    public static final int DENIAL_LOG_INTERVAL_SECONDS = 10;
    private static final long DENIAL_LOG_INTERVAL = TimeUnit.SECONDS.toNanos(DENIAL_LOG_INTERVAL_SECONDS);

    /** Why a request was refused, for the rate limit of its log line. */
    private enum Denial { DISABLED, PATH }

    /**
     * When a refusal was last logged, by module and reason. Bounded by the modules with restricted HTTP (configured);
     * any thread, lock-free.
     */
    private final ConcurrentHashMap<String, Long> lastDenialLog = new ConcurrentHashMap<>();

    private final HttpConfig config;
    private final Function<String, @Nullable ModuleSlot> slot;
    private final Supplier<? extends Collection<ModuleSlot>> slots;

    /**
     * Made by {@link io.github.tinywasm.wasi.WasiServer}.
     *
     * @param slot the slot of a module name, or {@code null}
     * @param slots every slot
     */
    public GuestHttpDispatcher(HttpConfig config, Function<String, @Nullable ModuleSlot> slot,
            Supplier<? extends Collection<ModuleSlot>> slots) {
        this.config = config;
        this.slot = slot;
        this.slots = slots;
    }

    /** The largest request body a guest may receive, in bytes: a web stack answers 413 above it without reading it all. */
    public long maxRequestSize() {
        return config.maxRequestSize();
    }

    /** Whether a module of that name is loaded (whatever its state): what a web stack may tag a request's metrics with. */
    public boolean isLoaded(@Nullable String module) {
        return module != null && !module.isEmpty() && slot.apply(module) != null;
    }

    /**
     * The module a request path names, as the original: the path without {@code basePath + "/"}, cut at the next
     * {@code /} ({@code users} for {@code /m/users/42}); empty when no name follows ({@code /m/}, {@code /m},
     * {@code /m//x}); {@code null} when the path is not under {@code basePath}.
     *
     * @param path the decoded request path
     * @param basePath the route's base path, e.g. {@code /m}
     */
    public static @Nullable String moduleName(String path, String basePath) {
        String base = basePath.endsWith("/") ? basePath.substring(0, basePath.length() - 1) : basePath;
        if (path.equals(base)) {
            return "";
        }
        if (!path.startsWith(base + "/")) {
            return null;
        }
        String rest = path.substring(base.length() + 1);
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }

    /**
     * Answers {@code request} for module {@code module} (see the class comment). Never throws and never blocks; the
     * response names the module when it is loaded ({@link GuestHttpResponse#module()}).
     */
    public CompletableFuture<GuestHttpResponse> dispatch(@Nullable String module, GuestHttpRequest request) {
        if (module == null || module.isEmpty()) {
            return CompletableFuture.completedFuture(GuestHttpResponse.error(400, "Module name required", null));
        }
        ModuleSlot target = slot.apply(module);
        String known = target != null ? module : null;
        if (request.bodySize() > config.maxRequestSize()) {
            return CompletableFuture.completedFuture(GuestHttpResponse.error(413, "request body of " + request.bodySize()
                    + " bytes is larger than the maximum request size of " + config.maxRequestSize() + " bytes", known));
        }
        if (target == null || !target.serving() || target.middleware() != null) {
            return CompletableFuture.completedFuture(GuestHttpResponse.error(404, "Module not found", known));
        }
        HttpAccess access = target.httpAccess();
        if (!access.unrestricted()) {
            String path = pathInModule(request.path(), config.basePath(), module);
            if (!access.enabled()) {
                return deny(target, Denial.DISABLED, request, path, access,
                        "module '" + module + "' does not accept HTTP requests");
            }
            if (!access.allows(path)) {
                return deny(target, Denial.PATH, request, path, access,
                        "module '" + module + "' does not accept HTTP requests to path '" + path + "'");
            }
        }
        List<ModuleSlot> pipeline = pipeline(module);
        CompletableFuture<GuestHttpResponse> answer;
        try {
            answer = step(pipeline, 0, target, request);
        } catch (RuntimeException e) {
            log.error("[{}] cannot dispatch {} {}", module, request.method(), request.path(), e);
            answer = CompletableFuture.completedFuture(GuestHttpResponse.error(500, "cannot dispatch: " + e, known));
        }
        return answer.thenApply(r -> r.forModule(known));
    }

    /**
     * The path of a request within its module, what a module's {@code http.paths} are matched against: what follows
     * {@code basePath/module} in {@code path}, {@code /} when nothing does ({@code /42} for {@code /m/users/42},
     * {@code /} for {@code /m/users}). A path not under {@code basePath/module} (a request made by hand) is returned
     * as it is.
     */
    public static String pathInModule(String path, String basePath, String module) {
        String base = basePath.endsWith("/") ? basePath.substring(0, basePath.length() - 1) : basePath;
        String prefix = base + "/" + module;
        if (!path.startsWith(prefix)) {
            return path.isEmpty() ? "/" : path;
        }
        if (path.length() == prefix.length()) {
            return "/";
        }
        return path.charAt(prefix.length()) == '/' ? path.substring(prefix.length()) : path;
    }

    /** Answers 403: counted on the module, logged at most once per module and reason per interval. */
    private CompletableFuture<GuestHttpResponse> deny(ModuleSlot target, Denial reason, GuestHttpRequest request,
            String path, HttpAccess access, String message) {
        long denied = target.deniedHttp();
        long now = System.nanoTime();
        String key = target.name() + '\0' + reason;
        Long last = lastDenialLog.get(key);
        if (last == null || now - last > DENIAL_LOG_INTERVAL) {
            // whoever replaces the value logs: one line per interval however many threads are refused at once
            boolean won = last == null ? lastDenialLog.putIfAbsent(key, now) == null : lastDenialLog.replace(key, last, now);
            if (won) {
                log.warn("[{}] refused HTTP {} {} (path within the module '{}'): its capabilities allow {}"
                        + " (tinywasm.wasi.modules.{}.http.{}); requests and calls denied so far: {}", target.name(),
                        request.method(), request.path(), path, access.describe(), target.name(),
                        reason == Denial.DISABLED ? "enabled" : "paths", denied);
            }
        }
        return CompletableFuture.completedFuture(GuestHttpResponse.error(403, message, target.name()));
    }

    /** The serving middlewares whose rule matches {@code route} and whose HTTP is enabled, in pipeline order. */
    List<ModuleSlot> pipeline(String route) {
        List<ModuleSlot> pipeline = new ArrayList<>();
        for (ModuleSlot s : slots.get()) {
            HttpMiddleware m = s.middleware();
            // a middleware whose HTTP is disabled is skipped as if it had no rule: not run, not counted
            if (m != null && s.serving() && m.rule().matches(route) && s.httpAccess().enabled()) {
                pipeline.add(s);
            }
        }
        if (pipeline.size() > 1) {
            pipeline.sort(Comparator.comparing(ModuleSlot::middleware, HttpMiddleware.ORDER));
        }
        return pipeline;
    }

    private CompletableFuture<GuestHttpResponse> step(List<ModuleSlot> pipeline, int i, ModuleSlot target,
            GuestHttpRequest request) {
        if (i == pipeline.size()) {
            return target.http(request, false).thenApply(PipelineStep::response);
        }
        ModuleSlot middleware = pipeline.get(i);
        return middleware.http(request, true).thenCompose(step -> switch (step.outcome()) {
            case ANSWERED, REFUSED -> CompletableFuture.completedFuture(step.response());
            case PASSED -> step(pipeline, i + 1, target, Objects.requireNonNull(step.request(), "request")); // PASSED has one
            case FAILED -> {
                // the original logs a middleware's error and goes on; the slot logged and counted it
                log.debug("[{}] middleware failed, the pipeline goes on to {}", middleware.name(), target.name());
                yield step(pipeline, i + 1, target, request);
            }
        });
    }
}
