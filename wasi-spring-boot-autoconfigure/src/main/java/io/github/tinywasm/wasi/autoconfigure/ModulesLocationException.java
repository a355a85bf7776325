package io.github.tinywasm.wasi.autoconfigure;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The modules location ({@code tinywasm.wasi.modules-dir}) cannot be used. Raised while the application starts,
 * before the web server accepts requests; {@link ModulesLocationFailureAnalyzer} turns it into Spring Boot's
 * failure report.
 */
public class ModulesLocationException extends IllegalStateException {

    private final String location;
    private final @Nullable Path path;
    private final String reason;
    private final String action;

    /**
     * @param location the location as configured
     * @param path the folder it resolves to, or {@code null} for a class path location
     * @param reason what is wrong, completing "tinywasm.wasi.modules-dir ... "
     * @param action what to do about it
     */
    public ModulesLocationException(String location, @Nullable Path path, String reason, String action) {
        super("tinywasm.wasi.modules-dir '" + location + "'" + (path != null ? " (" + path + ")" : "") + " " + reason);
        this.location = location;
        this.path = path;
        this.reason = reason;
        this.action = action;
    }

    public String location() {
        return location;
    }

    public @Nullable Path path() {
        return path;
    }

    public String reason() {
        return reason;
    }

    public String action() {
        return action;
    }
}
