package io.github.tinywasm.wasi.autoconfigure.build;

import io.github.tinywasm.wasi.deploy.GuestBuildConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Build on change (development mode), bound from {@code tinywasm.wasi.build.*}. Every value is checked when it is
 * bound; a bad one stops start-up with a message naming the property.
 *
 * @param enabled Whether to build guest modules from their sources at start-up (those whose .wasm is missing) and
 *     whenever their sources change, and deploy them into the modules folder. For development.
 * @param sources Folder of the modules' source folders: SOURCES/NAME/ is built into MODULES-DIR/NAME.wasm. Default:
 *     the modules folder itself (its sub-folders are the sources, as in tinywasm/wasi).
 * @param timeout Longest one build may run; a build past it is killed with its child processes.
 * @param quietPeriod How long a source folder must stay unchanged after a change before it is built, so that a
 *     burst of saves runs one build.
 * @param pollInterval How often the source folders are rescanned, as a fallback for missed file-system events.
 * @param outputLimit How much of a build's output (its end) is kept for the log and the build status.
 * @param concurrency Most modules built at once; one module never builds twice at once.
 * @param command Build command of the source folders nothing else says how to build, run with "sh -c" in the
 *     folder; {name}, {out} and {dir} are replaced by the module name, the file to write and the source folder
 *     (also in the environment as TINYWASM_MODULE, TINYWASM_OUT and TINYWASM_SOURCES).
 * @param modules Settings of single modules, by module name.
 * @param workDir Folder where builds write a module before it is deployed. Default: a temporary folder, deleted at
 *     shutdown.
 * @param rust How Rust guests (a Cargo.toml in the folder) are built.
 * @param c How C guests (*.c files including tinywasm.h) are built.
 */
@ConfigurationProperties("tinywasm.wasi.build")
public record GuestBuildProperties(
        @DefaultValue("false") boolean enabled,
        @Nullable Path sources,
        @DefaultValue("60s") Duration timeout,
        @DefaultValue("300ms") Duration quietPeriod,
        @DefaultValue("2s") Duration pollInterval,
        @DefaultValue("64KB") DataSize outputLimit,
        @DefaultValue("2") int concurrency,
        @Nullable String command,
        Map<String, Module> modules,
        @Nullable Path workDir,
        @DefaultValue Rust rust,
        @DefaultValue C c) {

    private static final String PREFIX = "tinywasm.wasi.build.";

    public GuestBuildProperties {
        modules = modules != null ? Map.copyOf(modules) : Map.of();
        positive("timeout", timeout);
        positive("quiet-period", quietPeriod);
        positive("poll-interval", pollInterval);
        require(outputLimit.toBytes() >= 1024 && outputLimit.toBytes() <= 16L * 1024 * 1024, "output-limit", outputLimit,
                "must be between 1KB and 16MB");
        require(concurrency >= 1, "concurrency", concurrency, "must be at least 1");
        modules.forEach((name, m) -> {
            if (m.timeout() != null) {
                positive("modules." + name + ".timeout", m.timeout());
            }
        });
    }

    /**
     * Settings of one module.
     *
     * @param command Build command of this module (as tinywasm.wasi.build.command); it wins over what the folder
     *     says (build.sh, Cargo.toml, ...).
     * @param timeout Longest one build of this module may run. Default: tinywasm.wasi.build.timeout.
     */
    public record Module(@Nullable String command, @Nullable Duration timeout) {}

    /**
     * Rust guests: cargo rustc --release --offline --lib --target TARGET, exporting wasi-libc's malloc and free.
     *
     * @param cargo Cargo to run: a path, or a name looked up on PATH. Default: Debian's.
     * @param rustc Rust compiler cargo runs (as RUSTC); its folder comes first on PATH. Default: Debian's.
     * @param target WASI preview 1 target: wasm32-wasi (Rust before 1.78 knows only this name) or wasm32-wasip1.
     * @param targetDir Cargo's target folder. Default: cargo's own (the crate's or its workspace's target/).
     */
    public record Rust(
            @DefaultValue("/usr/bin/cargo") String cargo,
            @DefaultValue("/usr/bin/rustc") String rustc,
            @DefaultValue("wasm32-wasi") String target,
            @Nullable Path targetDir) {}

    /**
     * C guests: COMPILER --target=wasm32-wasi -mexec-model=reactor FLAGS -I FOLDER -I INCLUDE-DIRS -o OUT *.c.
     *
     * @param compiler C compiler to run: a path, or a name looked up on PATH (clang, or the WASI SDK's clang).
     * @param includeDirs Folders searched for headers such as tinywasm.h, after the module's own folder.
     * @param flags Further compiler flags.
     */
    public record C(
            @DefaultValue("clang") String compiler,
            List<Path> includeDirs,
            @DefaultValue("-O2") List<String> flags) {

        public C {
            includeDirs = includeDirs != null ? List.copyOf(includeDirs) : List.of();
            flags = flags != null ? List.copyOf(flags) : List.of();
        }
    }

    /** The engine configuration these properties describe, for a server whose modules folder is {@code modulesDir}. */
    public GuestBuildConfig toConfig(Path modulesDir) {
        Map<String, GuestBuildConfig.Module> perModule = new LinkedHashMap<>();
        modules.forEach((name, m) -> perModule.put(name, new GuestBuildConfig.Module(m.command(), m.timeout())));
        return GuestBuildConfig.builder(sources != null ? sources : modulesDir, modulesDir)
                .workDir(workDir)
                .timeout(timeout)
                .quietPeriod(quietPeriod)
                .pollInterval(pollInterval)
                .outputLimit((int) outputLimit.toBytes())
                .concurrency(concurrency)
                .command(command)
                .modules(perModule)
                .rust(new GuestBuildConfig.Rust(rust.cargo(), rust.rustc(), rust.target(), rust.targetDir()))
                .c(new GuestBuildConfig.C(c.compiler(), c.includeDirs(), c.flags()))
                .build();
    }

    private static void positive(String name, @Nullable Duration d) {
        require(d != null && !d.isNegative() && !d.isZero(), name, d, "must be a positive duration");
    }

    private static void require(boolean ok, String name, @Nullable Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(PREFIX + name + " " + rule + " (was " + value + ")");
        }
    }
}
