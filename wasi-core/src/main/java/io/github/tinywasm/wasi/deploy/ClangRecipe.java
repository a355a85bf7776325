package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds a C guest: every {@code *.c} of the folder, one of which includes {@code tinywasm.h}, compiled and linked
 * by clang as a WASI reactor, as {@code guests/build.sh} does:
 * {@code clang --target=wasm32-wasi -mexec-model=reactor <flags> -I <folder> -I <include dirs> -o <out> *.c}.
 *
 * <p>A compiler that is missing, or that cannot find the parts of the wasm32 toolchain Debian ships in separate
 * packages (the linker, the C library, the compiler runtime), is reported as a missing toolchain naming them.
 *
 * @param c the compiler settings
 * @param sources the folder's {@code *.c} files, sorted
 */
record ClangRecipe(GuestBuildConfig.C c, List<Path> sources) implements BuildRecipe {

    static final String INSTALL = "install clang, lld, wasi-libc and libclang-rt-dev-wasm32 (Debian: apt-get install clang lld"
            + " wasi-libc libclang-rt-dev-wasm32) or the WASI SDK (then set tinywasm.wasi.build.c.compiler to its clang)";

    private static final Pattern INCLUDES_TINYWASM_H = Pattern.compile("#\\s*include\\s*[<\"]tinywasm\\.h[>\"]");

    ClangRecipe {
        sources = List.copyOf(sources);
    }

    /** The {@code *.c} files directly in {@code folder}, sorted, if one of them includes tinywasm.h; else none. */
    static List<Path> guestSources(Path folder) {
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(f -> f.getFileName().toString().endsWith(".c") && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
        for (Path f : files) {
            try {
                if (INCLUDES_TINYWASM_H.matcher(Files.readString(f, StandardCharsets.ISO_8859_1)).find()) {
                    return files;
                }
            } catch (IOException e) {
                // unreadable: it cannot be the one
            }
        }
        return List.of();
    }

    @Override
    public String kind() {
        return "c";
    }

    @Override
    public Optional<String> missingToolchain() {
        if (Executables.find(c.compiler()).isEmpty()) {
            return Optional.of("the C compiler " + c.compiler() + " is not installed: " + INSTALL);
        }
        return Optional.empty();
    }

    @Override
    public void build(BuildProcess process, Path out) throws BuildFailure, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(Executables.find(c.compiler()).map(Path::toString).orElse(c.compiler()));
        argv.add("--target=wasm32-wasi");
        argv.add("-mexec-model=reactor");
        argv.addAll(c.flags());
        argv.add("-I");
        argv.add(".");
        for (Path include : c.includeDirs()) {
            argv.add("-I");
            argv.add(include.toAbsolutePath().toString());
        }
        argv.add("-o");
        argv.add(out.toString());
        for (Path source : sources) {
            argv.add(source.getFileName().toString());
        }
        try {
            process.run(argv, Map.of());
        } catch (BuildFailure e) {
            String output = process.tail().text();
            if (output.contains("\"wasm-ld\"") && output.contains("doesn't exist")) {
                throw BuildFailure.toolchainMissing("clang cannot find the wasm linker wasm-ld: install lld (Debian: apt-get install lld)");
            }
            if (output.contains("libclang_rt.builtins-wasm32.a")) {
                throw BuildFailure.toolchainMissing("clang cannot find its wasm32 runtime (libclang_rt.builtins-wasm32.a): "
                        + "install libclang-rt-dev-wasm32 (Debian)");
            }
            if (output.contains("crt1-reactor.o") || output.contains("unable to find library -lc")
                    || output.contains("'stdlib.h' file not found") || output.contains("'stddef.h' file not found")) {
                throw BuildFailure.toolchainMissing("clang cannot find the WASI C library: install wasi-libc (Debian) or use the WASI SDK");
            }
            throw e;
        }
    }
}
