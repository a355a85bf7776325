package io.github.tinywasm.wasi.deploy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** Finds the programs a build runs: a path as given, or a bare name on {@code PATH} (as a shell would). */
final class Executables {

    private static final boolean WINDOWS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

    private Executables() {}

    /** The executable file {@code program} names, or empty if there is none. */
    static Optional<Path> find(String program) {
        if (program == null || program.isBlank()) {
            return Optional.empty();
        }
        try {
            if (program.contains("/") || program.contains(File.separator)) {
                Path p = Path.of(program);
                return executable(p) ? Optional.of(p) : Optional.empty();
            }
            String path = System.getenv("PATH");
            if (path == null) {
                return Optional.empty();
            }
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                for (String name : WINDOWS ? new String[] {program, program + ".exe", program + ".cmd"} : new String[] {program}) {
                    Path p = Path.of(dir, name);
                    if (executable(p)) {
                        return Optional.of(p);
                    }
                }
            }
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static boolean executable(Path p) {
        return Files.isRegularFile(p) && Files.isExecutable(p);
    }
}
