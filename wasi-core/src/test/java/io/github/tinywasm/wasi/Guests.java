package io.github.tinywasm.wasi;

import com.dylibso.chicory.wabt.Wat2Wasm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Guest modules for the tests: WAT compiled here with Chicory's wat2wasm, C built by guests/build.sh. */
public final class Guests {

    private Guests() {}

    /** The ABI imports, as a WAT fragment. */
    public static final String IMPORTS = """
              (import "env" "publish" (func $publish (param i32 i32 i32 i32)))
              (import "env" "subscribe" (func $subscribe (param i32 i32 i32)))
              (import "env" "ws_broadcast" (func $ws_broadcast (param i32 i32 i32 i32)))
              (import "env" "log" (func $log (param i32 i32)))
            """;

    public static byte[] wat(String text) {
        return Wat2Wasm.parse(text);
    }

    /**
     * Subscribes to {@code in} in {@code init}; republishes every payload unchanged on {@code out}. Uses one
     * fixed 60 KiB buffer as its "malloc" (calls are serialised, and it exports no free).
     */
    public static byte[] relay(String in, String out) {
        return wat(relayWat(in, out, ""));
    }

    public static String relayWat(String in, String out, String extra) {
        return "(module\n" + IMPORTS + """
                  (memory (export "memory") 2)
                  (data (i32.const 16) "%s")
                  (data (i32.const 512) "%s")
                  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const %d) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l)))
                %s)
                """.formatted(in, out, in.length(), out.length(), extra);
    }

    /**
     * A guest that subscribes to "in" in {@code init}, uses one fixed buffer at 1024 as its malloc, holds the
     * string {@code out} at offset 32 (for the body to use as a topic), and runs {@code body} as
     * {@code on_message (param $p i32) (param $l i32)}.
     */
    public static byte[] onIn(String out, String body) {
        return onIn(out, "", body);
    }

    /** {@link #onIn(String, String)} with more definitions ({@code extra}: functions, globals) in the module. */
    public static byte[] onIn(String out, String extra, String body) {
        return wat("(module\n" + IMPORTS + extra + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (data (i32.const 32) "%s")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                %s))
                """.formatted(out, body));
    }

    /** A guest built by {@code guests/build.sh} (C, WAT, Rust or AssemblyScript); see {@link #builtPath}. */
    public static byte[] built(String name) {
        Path file = builtPath(name);
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The file of a guest built by {@code guests/build.sh}, in {@code guests/build/}. {@code mvn verify} builds the
     * guests before the tests run; a run that skipped that step (an IDE's) builds them here when one is missing
     * (the script rebuilds only what is out of date, and takes turns with other runs of it).
     */
    public static Path builtPath(String name) {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("guests"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no guests/ folder above " + Path.of("").toAbsolutePath());
        }
        Path file = dir.resolve("guests/build/" + name + ".wasm");
        synchronized (Guests.class) {
            if (!Files.isRegularFile(file)) {
                String output;
                int exit;
                try {
                    Process build = new ProcessBuilder("bash", "guests/build.sh").directory(dir.toFile())
                            .redirectErrorStream(true).start();
                    build.getOutputStream().close();
                    output = new String(build.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    exit = build.waitFor();
                } catch (IOException e) {
                    throw new IllegalStateException(file + " is missing and guests/build.sh could not run: " + e, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(file + " is missing: interrupted while guests/build.sh ran", e);
                }
                System.out.print(output);
                if (exit != 0 || !Files.isRegularFile(file)) {
                    throw new IllegalStateException(file + " is missing, and guests/build.sh " + (exit != 0
                            ? "failed (exit " + exit + "):\n" + output.strip()
                            : "does not build it (is '" + name + "' a guest under guests/?)"));
                }
            }
        }
        return file;
    }
}
