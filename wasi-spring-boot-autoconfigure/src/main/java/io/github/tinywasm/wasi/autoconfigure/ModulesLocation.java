package io.github.tinywasm.wasi.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.io.support.ResourcePatternResolver;
import org.springframework.core.io.support.ResourcePatternUtils;

/**
 * Where the modules are ({@code tinywasm.wasi.modules-dir}): a folder, given as a path or a {@code file:} location,
 * which the engine loads, watches and hot-swaps from; or a {@code classpath:} location, whose {@code *.wasm}
 * resources (in the application's jar, for example) are read once at start-up and are read-only.
 *
 * <p>Immutable and thread-safe.
 */
public final class ModulesLocation {

    private static final Logger log = LoggerFactory.getLogger(ModulesLocation.class);

    private static final String CLASSPATH = "classpath:";
    private static final String FILE = "file:";
    private static final String EXTENSION = ".wasm";

    private final String location;
    private final @Nullable Path folder;
    private final @Nullable String classpathFolder;

    private ModulesLocation(String location, @Nullable Path folder, @Nullable String classpathFolder) {
        this.location = location;
        this.folder = folder;
        this.classpathFolder = classpathFolder;
    }

    /**
     * Parses a location.
     *
     * @throws IllegalArgumentException if it is neither a path, nor a {@code file:} or {@code classpath:} location
     */
    public static ModulesLocation of(String location) {
        if (!isValid(location)) {
            throw new IllegalArgumentException("tinywasm.wasi.modules-dir '" + location
                    + "' must be a folder (a path, or file: followed by a path) or classpath: followed by a package path");
        }
        if (location.regionMatches(true, 0, CLASSPATH, 0, CLASSPATH.length())) {
            String path = location.substring(CLASSPATH.length()).replace('\\', '/');
            while (path.startsWith("/")) {
                path = path.substring(1);
            }
            while (path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            return new ModulesLocation(location, null, path);
        }
        String path = location.regionMatches(true, 0, FILE, 0, FILE.length()) ? fileLocationPath(location) : location;
        return new ModulesLocation(location, Path.of(path), null);
    }

    /** Whether {@code location} is a path, a {@code file:} or a {@code classpath:} location. */
    static boolean isValid(@Nullable String location) {
        if (location == null || location.isBlank()) {
            return false;
        }
        if (location.regionMatches(true, 0, CLASSPATH, 0, CLASSPATH.length())) {
            return !location.contains("*") && !location.contains("?");
        }
        String path = location;
        if (location.regionMatches(true, 0, FILE, 0, FILE.length())) {
            path = fileLocationPath(location);
        } else if (location.matches("(?i)[a-z][a-z0-9+.-]+:.*") && !location.matches("(?i)[a-z]:[\\\\/].*")) {
            return false; // another scheme (http:, jar:, ...): not a folder the engine can read or watch
        }
        try {
            return !path.isBlank() && Path.of(path) != null;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static String fileLocationPath(String location) {
        String path = location.substring(FILE.length());
        // file:///srv/modules and file:/srv/modules are absolute; file:modules is relative, as Spring reads it
        return path.startsWith("//") ? path.substring(2) : path;
    }

    /** The location as configured. */
    public String location() {
        return location;
    }

    /** Whether modules come from the class path: read once, never watched, never reloaded. */
    public boolean readOnly() {
        return classpathFolder != null;
    }

    /** The folder the engine loads and watches, or {@code null} for a class path location. */
    public @Nullable Path folder() {
        return folder;
    }

    /**
     * Makes sure the folder can be used: creates it if missing.
     *
     * @throws ModulesLocationException if it is a file, cannot be read, or cannot be created
     */
    void prepareFolder() {
        Path dir = folder;
        if (dir == null) {
            return;
        }
        Path absolute = dir.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            if (!Files.isReadable(absolute)) {
                throw new ModulesLocationException(location, absolute, "is a folder that this process cannot read",
                        "Give the application's user read (and execute) permission on the folder, or set tinywasm.wasi.modules-dir to another folder.");
            }
            return;
        }
        if (Files.exists(absolute)) {
            throw new ModulesLocationException(location, absolute, "is a file, not a folder",
                    "Set tinywasm.wasi.modules-dir to a folder (it is created if missing), or to classpath:PATH for modules packaged with the application.");
        }
        try {
            Files.createDirectories(absolute);
            log.info("Created the empty modules folder {} (tinywasm.wasi.modules-dir): put *.wasm files there", absolute);
        } catch (IOException e) {
            throw new ModulesLocationException(location, absolute, "does not exist and cannot be created: " + reason(e),
                    "Create the folder, give the application's user write permission on its parent, or set tinywasm.wasi.modules-dir to another folder.");
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException a) {
            return "permission denied on " + a.getFile();
        }
        if (e instanceof FileSystemException f && f.getFile() != null) {
            return f.getClass().getSimpleName() + " on " + f.getFile() + (f.getReason() != null ? " (" + f.getReason() + ")" : "");
        }
        return e.toString();
    }

    /**
     * The {@code *.wasm} resources of a class path location, sorted by module name; empty for a folder.
     *
     * @throws ModulesLocationException if the class path cannot be searched
     */
    List<ClasspathModule> classpathModules(ResourceLoader resourceLoader) {
        String base = classpathFolder;
        if (base == null) {
            return List.of();
        }
        ResourcePatternResolver resolver = ResourcePatternUtils.getResourcePatternResolver(resourceLoader);
        String pattern = "classpath*:" + (base.isEmpty() ? "" : base + "/") + "*" + EXTENSION;
        Resource[] resources;
        try {
            resources = resolver.getResources(pattern);
        } catch (IOException e) {
            throw new ModulesLocationException(location, null, "cannot be searched for *.wasm resources: " + e,
                    "Check that the location names a package path in the application's class path.");
        }
        List<ClasspathModule> modules = new ArrayList<>();
        for (Resource resource : resources) {
            String file = resource.getFilename();
            if (file != null && file.toLowerCase(Locale.ROOT).endsWith(EXTENSION) && file.length() > EXTENSION.length()) {
                String name = file.substring(0, file.length() - EXTENSION.length());
                if (modules.stream().noneMatch(m -> m.name().equals(name))) { // the first on the class path wins
                    modules.add(new ClasspathModule(name, resource));
                }
            }
        }
        if (modules.isEmpty()) {
            log.warn("No *.wasm resources found at {} (tinywasm.wasi.modules-dir)", location);
        }
        modules.sort(Comparator.comparing(ClasspathModule::name));
        return modules;
    }

    @Override
    public String toString() {
        return location;
    }

    /**
     * A module packaged on the class path.
     *
     * @param name the module's name ({@code users} for {@code users.wasm})
     * @param resource where its bytes are
     */
    record ClasspathModule(String name, Resource resource) {

        /**
         * Reads at most {@code limit + 1} bytes: a larger module is then refused by the engine by its size, without
         * reading all of it.
         */
        byte[] read(long limit) throws IOException {
            try (InputStream in = resource.getInputStream()) {
                return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            }
        }
    }
}
