package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Module source folders for the guest-build tests, copied from {@code wasi-core/src/test/resources/build-fixtures/}
 * into a test's sources folder (shared with the auto-configuration's tests through the test-jar).
 */
public final class BuildFixtures {

    private BuildFixtures() {}

    /** The repository's root (the folder holding {@code guests/}). */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("guests"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no guests/ folder above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** The folder of {@code tinywasm.h}. */
    public static Path tinywasmHeaderDir() {
        return root().resolve("guests/c");
    }

    /**
     * Copies fixture {@code fixture} to {@code <sources>/<module>/}: fills in the Rust crate's path, and gives an
     * AssemblyScript guest the SDK file and the compiler installed for {@code guests/assemblyscript/}.
     */
    public static Path copy(String fixture, Path sources, String module) {
        Path from = root().resolve("wasi-core/src/test/resources/build-fixtures").resolve(fixture);
        Path to = sources.resolve(module);
        try {
            List<Path> files;
            try (Stream<Path> walk = Files.walk(from)) {
                files = walk.sorted().toList();
            }
            for (Path f : files) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            Path cargo = to.resolve("Cargo.toml");
            if (Files.isRegularFile(cargo)) {
                Files.writeString(cargo, Files.readString(cargo).replace("@TINYWASM_CRATE@",
                        root().resolve("guests/rust/tinywasm").toString()));
            }
            if (Files.isRegularFile(to.resolve("asconfig.json"))) {
                Path as = root().resolve("guests/assemblyscript");
                Files.copy(as.resolve("assembly/tinywasm.ts"), to.resolve("assembly/tinywasm.ts"));
                Files.createSymbolicLink(to.resolve("node_modules"), as.resolve("node_modules"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return to;
    }

    /** Replaces {@code from} with {@code to} in {@code file} (written in place, as most editors save). */
    public static void edit(Path file, String from, String to) {
        try {
            String text = Files.readString(file);
            if (!text.contains(from)) {
                throw new IllegalArgumentException(file + " does not contain " + from);
            }
            Files.writeString(file, text.replace(from, to));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
