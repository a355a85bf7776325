package io.github.tinywasm.wasi.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds a Rust guest, a folder with a {@code Cargo.toml} whose library is a {@code cdylib} (the manifest says
 * {@code "cdylib"}):
 * {@code cargo rustc --release --offline --lib --target wasm32-wasi -- -C link-arg=--export=malloc
 * -C link-arg=--export=free}, with {@code RUSTC} set to the configured rustc and its folder first on {@code PATH},
 * as {@code guests/build.sh} does (a rustup shim earlier on {@code PATH} may have no wasm target). The exports
 * are wasi-libc's allocator, which the host uses to place each message (a crate's own
 * {@code .cargo/config.toml} may export them too; exporting twice is harmless). The module is the {@code .wasm}
 * file cargo reports having built (its JSON messages), wherever the target folder is.
 *
 * @param rust the toolchain settings
 */
record CargoRecipe(GuestBuildConfig.Rust rust) implements BuildRecipe {

    private static final String INSTALL = "install Debian's rustc, cargo and libstd-rust-dev-wasm32 (apt-get install rustc cargo"
            + " libstd-rust-dev-wasm32), or with rustup add the target (rustup target add %s) and set"
            + " tinywasm.wasi.build.rust.cargo and tinywasm.wasi.build.rust.rustc to its cargo and rustc";

    @Override
    public String kind() {
        return "rust";
    }

    /** Whether {@code manifest} is a {@code Cargo.toml} that makes a {@code cdylib} (as {@code guests/build.sh} asks). */
    static boolean isModuleCrate(Path manifest) {
        try {
            return Files.isRegularFile(manifest) && Files.readString(manifest, StandardCharsets.UTF_8).contains("\"cdylib\"");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public Optional<String> missingToolchain() throws InterruptedException {
        String install = INSTALL.formatted(rust.target());
        if (Executables.find(rust.cargo()).isEmpty()) {
            return Optional.of("cargo (" + rust.cargo() + ") is not installed: " + install);
        }
        Optional<Path> rustc = Executables.find(rust.rustc());
        if (rustc.isEmpty()) {
            return Optional.of("rustc (" + rust.rustc() + ") is not installed: " + install);
        }
        if (!hasStandardLibrary(rustc.get())) {
            return Optional.of("the Rust standard library for " + rust.target() + " is not installed for " + rust.rustc() + ": " + install);
        }
        return Optional.empty();
    }

    /** Whether rustc knows the target and has its precompiled {@code std} ({@code libstd-*.rlib}). */
    private boolean hasStandardLibrary(Path rustc) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(rustc.toString(), "--print", "target-libdir", "--target", rust.target())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                BuildProcess.kill(p);
                return true; // cannot tell: let the build say
            }
            if (p.exitValue() != 0) {
                return false;
            }
            try (Stream<Path> files = Files.list(Path.of(out))) {
                return files.anyMatch(f -> {
                    String n = f.getFileName().toString();
                    return n.startsWith("libstd-") && n.endsWith(".rlib");
                });
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void build(BuildProcess process, Path out) throws BuildFailure, InterruptedException {
        Path rustc = Executables.find(rust.rustc()).orElse(Path.of(rust.rustc()));
        List<String> argv = new ArrayList<>(List.of(Executables.find(rust.cargo()).map(Path::toString).orElse(rust.cargo()),
                "rustc", "--release", "--offline", "--lib", "--target", rust.target()));
        if (rust.targetDir() != null) {
            argv.add("--target-dir");
            argv.add(rust.targetDir().toAbsolutePath().toString());
        }
        argv.addAll(List.of("--message-format=json-render-diagnostics", "--",
                "-C", "link-arg=--export=malloc", "-C", "link-arg=--export=free"));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RUSTC", rustc.toString());
        Path bin = rustc.toAbsolutePath().getParent();
        String path = System.getenv("PATH");
        env.put("PATH", bin + (path == null || path.isEmpty() ? "" : File.pathSeparator + path));
        List<String> built = new ArrayList<>();
        process.run(argv, env, line -> built.addAll(artifactFiles(line)));
        Path wasm = built.stream().filter(f -> f.endsWith(".wasm")).reduce((a, b) -> b).map(Path::of)
                .orElseThrow(() -> BuildFailure.failed("cargo built no .wasm file: make the crate's library a cdylib"
                        + " ([lib] crate-type = [\"cdylib\"] in Cargo.toml)"));
        try {
            Files.copy(wasm, out, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw BuildFailure.failed("cannot copy " + wasm + ": " + e);
        }
    }

    /** The {@code filenames} of a cargo {@code compiler-artifact} JSON message; none for any other line. */
    static List<String> artifactFiles(String json) {
        if (!json.contains("\"reason\":\"compiler-artifact\"")) {
            return List.of();
        }
        String key = "\"filenames\":[";
        int i = json.indexOf(key);
        if (i < 0) {
            return List.of();
        }
        i += key.length();
        List<String> names = new ArrayList<>();
        while (i < json.length()) {
            char ch = json.charAt(i);
            if (ch == ']') {
                break;
            }
            if (ch != '"') {
                i++;
                continue;
            }
            StringBuilder s = new StringBuilder();
            for (i++; i < json.length() && json.charAt(i) != '"'; i++) {
                char c = json.charAt(i);
                if (c == '\\' && i + 1 < json.length()) {
                    char e = json.charAt(++i);
                    switch (e) {
                        case 'n' -> s.append('\n');
                        case 't' -> s.append('\t');
                        case 'r' -> s.append('\r');
                        case 'b' -> s.append('\b');
                        case 'f' -> s.append('\f');
                        case 'u' -> {
                            if (i + 4 < json.length()) {
                                s.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
                                i += 4;
                            }
                        }
                        default -> s.append(e);
                    }
                } else {
                    s.append(c);
                }
            }
            names.add(s.toString());
            i++;
        }
        return names;
    }
}
