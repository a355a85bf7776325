package io.github.tinywasm.wasi.policy;

import io.github.tinywasm.wasi.http.PathPattern;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What HTTP one module may receive ({@code tinywasm.wasi.modules.<name>.http.enabled} and {@code .http.paths}): whether
 * it takes HTTP at all, and the paths within it ({@link PathPattern}, relative to {@code {http.path}/{name}}) that it
 * may be asked for as a request's target. {@link io.github.tinywasm.wasi.http.GuestHttpDispatcher} answers a request
 * outside them 403 before any guest runs; a module whose HTTP is disabled is also left out of every middleware
 * pipeline.
 *
 * @param enabled whether the module receives HTTP requests at all (as target or middleware)
 * @param paths the paths it may be asked for as a target, or {@code null} for any (the default); an empty list means none
 */
public record HttpAccess(boolean enabled, @Nullable List<PathPattern> paths) {

    /** Every path, as the original. */
    public static final HttpAccess ALL = new HttpAccess(true, null);

    /** No HTTP at all. */
    public static final HttpAccess DISABLED = new HttpAccess(false, null);

    public HttpAccess {
        paths = paths != null ? List.copyOf(paths) : null;
    }

    /**
     * Access from pattern texts ({@code null}: any path).
     *
     * @throws IllegalArgumentException naming a bad pattern
     */
    public static HttpAccess of(boolean enabled, @Nullable List<String> paths) {
        return new HttpAccess(enabled, paths != null ? paths.stream().map(PathPattern::of).toList() : null);
    }

    /**
     * Whether a request to {@code path} (within the module, starting with {@code /}) may reach the module as its target.
     */
    public boolean allows(String path) {
        if (!enabled) {
            return false;
        }
        List<PathPattern> patterns = paths;
        if (patterns == null) {
            return true;
        }
        for (PathPattern p : patterns) {
            if (p.matches(path)) {
                return true;
            }
        }
        return false;
    }

    /** The patterns as written, for a log line: {@code any path}, {@code no HTTP}, or the list. */
    public String describe() {
        return !enabled ? "no HTTP" : paths == null ? "any path" : paths.toString();
    }

    /** Whether everything is allowed. */
    public boolean unrestricted() {
        return enabled && paths == null;
    }

    /** The patterns as written ({@code null}: any path), for a report. */
    public @Nullable List<String> pathTexts() {
        List<PathPattern> patterns = paths;
        return patterns != null ? patterns.stream().map(PathPattern::toString).toList() : null;
    }
}
