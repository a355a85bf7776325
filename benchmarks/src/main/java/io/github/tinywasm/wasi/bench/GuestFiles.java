package io.github.tinywasm.wasi.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Guests built by guests/build.sh. */
final class GuestFiles {

    private GuestFiles() {}

    static byte[] read(String name) {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("guests/build"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("guests/build not found: run guests/build.sh first");
        }
        try {
            return Files.readAllBytes(dir.resolve("guests/build/" + name + ".wasm"));
        } catch (IOException e) {
            throw new UncheckedIOException("run guests/build.sh first", e);
        }
    }
}
