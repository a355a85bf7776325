package io.github.tinywasm.wasi.sample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The sample's guests, as built by guests/build.sh, copied into a fresh modules folder for a test. */
final class SampleModules {

    static final String[] MODULES = {"chat", "users", "logger", "echo", "stats", "notes"};

    private SampleModules() {}

    static Path built(String name) {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("guests"))) {
            dir = dir.getParent();
        }
        Path file = dir == null ? null : dir.resolve("guests/build/" + name + ".wasm");
        if (file == null || !Files.isRegularFile(file)) {
            throw new IllegalStateException("guests/build/" + name + ".wasm is missing: run guests/build.sh (or scripts/test.sh)");
        }
        return file;
    }

    static Path freshFolder() throws IOException {
        Path dir = Files.createTempDirectory("sample-modules");
        for (String m : MODULES) {
            Files.copy(built(m), dir.resolve(m + ".wasm"));
        }
        return dir;
    }

    /** Deploys a module the recommended way: write beside, then rename over the old file atomically. */
    static void deploy(Path source, Path modulesDir, String name) throws IOException {
        Path tmp = modulesDir.resolve("." + name + ".wasm.tmp");
        Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, modulesDir.resolve(name + ".wasm"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
