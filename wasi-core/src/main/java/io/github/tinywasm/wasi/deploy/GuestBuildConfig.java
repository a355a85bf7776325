package io.github.tinywasm.wasi.deploy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Immutable configuration of {@link GuestBuilds}. Build one with {@link #builder(Path, Path)}; every value is
 * checked when it is built, and a bad one fails with a message naming the setting.
 *
 * @param sourcesDir folder of the modules' source folders: {@code <sourcesDir>/<name>/} builds module
 *     {@code <name>}; may be the modules folder itself (its sub-folders are then the sources)
 * @param modulesDir the folder the server loads modules from, where a build's module is deployed
 * @param workDir folder for the builds' outputs before they are deployed, or {@code null} for a temporary folder
 *     deleted on close
 * @param timeout the longest one build may run before it is killed
 * @param quietPeriod how long a source folder must stay unchanged after a change before it is built, so that a
 *     burst of saves runs one build
 * @param pollInterval how often the source folders are rescanned, as a fallback for missed file-system events
 * @param outputLimit how many bytes of a build's output are kept (the end of it)
 * @param concurrency how many modules may build at once (one module never builds twice at once)
 * @param command the build command of folders nothing else says how to build, or {@code null}: run by
 *     {@code sh -c} in the module's folder, with <code>{name}</code>, <code>{out}</code> and <code>{dir}</code>
 *     replaced (quoted) by the module's name, the file to write and the source folder
 * @param modules settings of single modules, by module name
 * @param rust how Rust guests are built
 * @param c how C guests are built
 */
public record GuestBuildConfig(
        Path sourcesDir,
        Path modulesDir,
        @Nullable Path workDir,
        Duration timeout,
        Duration quietPeriod,
        Duration pollInterval,
        int outputLimit,
        int concurrency,
        @Nullable String command,
        Map<String, Module> modules,
        Rust rust,
        C c) {

    public GuestBuildConfig {
        Objects.requireNonNull(sourcesDir, "sourcesDir");
        Objects.requireNonNull(modulesDir, "modulesDir");
        positive("timeout", timeout);
        positive("quietPeriod", quietPeriod);
        positive("pollInterval", pollInterval);
        if (outputLimit < 1024) {
            throw new IllegalArgumentException("outputLimit must be at least 1024 bytes, was " + outputLimit);
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
        modules = Map.copyOf(Objects.requireNonNull(modules, "modules"));
        modules.forEach((name, m) -> {
            if (m.timeout() != null) {
                positive("modules." + name + ".timeout", m.timeout());
            }
        });
        Objects.requireNonNull(rust, "rust");
        Objects.requireNonNull(c, "c");
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }

    /** The timeout of module {@code name}'s builds: its own, or {@link #timeout()}. */
    public Duration timeout(String name) {
        Module m = modules.get(name);
        return m != null && m.timeout() != null ? m.timeout() : timeout;
    }

    /**
     * Settings of one module.
     *
     * @param command its build command (as {@link GuestBuildConfig#command()}), or {@code null} to detect it
     * @param timeout the timeout of its builds, or {@code null} for the global one
     */
    public record Module(@Nullable String command, @Nullable Duration timeout) {}

    /**
     * How Rust guests (folders with a {@code Cargo.toml}) are built: {@code cargo rustc --release --offline --lib
     * --target <target>}, exporting wasi-libc's {@code malloc} and {@code free}.
     *
     * @param cargo the cargo to run (a path, or a name looked up on {@code PATH})
     * @param rustc the rustc cargo runs (its {@code RUSTC})
     * @param target the WASI preview 1 target: {@code wasm32-wasi} (Rust before 1.78 knows only this name) or
     *     {@code wasm32-wasip1}
     * @param targetDir cargo's target folder, or {@code null} for cargo's own choice (the crate's or its
     *     workspace's {@code target/})
     */
    public record Rust(String cargo, String rustc, String target, @Nullable Path targetDir) {
        public Rust {
            Objects.requireNonNull(cargo, "rust.cargo");
            Objects.requireNonNull(rustc, "rust.rustc");
            Objects.requireNonNull(target, "rust.target");
        }

        /** Debian's toolchain ({@code /usr/bin/cargo}, {@code /usr/bin/rustc}), target {@code wasm32-wasi}. */
        public static Rust defaults() {
            return new Rust("/usr/bin/cargo", "/usr/bin/rustc", "wasm32-wasi", null);
        }
    }

    /**
     * How C guests ({@code *.c} files including {@code tinywasm.h}) are built: {@code <compiler>
     * --target=wasm32-wasi -mexec-model=reactor <flags> -I <folder> -I <includeDirs>... -o <out> *.c}.
     *
     * @param compiler the clang to run (a path, or a name looked up on {@code PATH})
     * @param includeDirs folders searched for headers such as {@code tinywasm.h} (after the module's own folder)
     * @param flags further compiler flags
     */
    public record C(String compiler, List<Path> includeDirs, List<String> flags) {
        public C {
            Objects.requireNonNull(compiler, "c.compiler");
            includeDirs = List.copyOf(includeDirs);
            flags = List.copyOf(flags);
        }

        /** {@code clang}, no include folders, {@code -O2}. */
        public static C defaults() {
            return new C("clang", List.of(), List.of("-O2"));
        }
    }

    /** A builder with the defaults: 60 s timeout, 300 ms quiet period, 2 s poll, 64 KiB output, 2 builds at once. */
    public static Builder builder(Path sourcesDir, Path modulesDir) {
        return new Builder(sourcesDir, modulesDir);
    }

    /** Builder of {@link GuestBuildConfig}. */
    public static final class Builder {
        private final Path sourcesDir;
        private final Path modulesDir;
        private @Nullable Path workDir;
        private Duration timeout = Duration.ofSeconds(60);
        private Duration quietPeriod = Duration.ofMillis(300);
        private Duration pollInterval = Duration.ofSeconds(2);
        private int outputLimit = 64 * 1024;
        private int concurrency = 2;
        private @Nullable String command;
        private final Map<String, Module> modules = new LinkedHashMap<>();
        private Rust rust = Rust.defaults();
        private C c = C.defaults();

        private Builder(Path sourcesDir, Path modulesDir) {
            this.sourcesDir = sourcesDir;
            this.modulesDir = modulesDir;
        }

        public Builder workDir(@Nullable Path workDir) {
            this.workDir = workDir;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder quietPeriod(Duration quietPeriod) {
            this.quietPeriod = quietPeriod;
            return this;
        }

        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        public Builder outputLimit(int bytes) {
            this.outputLimit = bytes;
            return this;
        }

        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        public Builder command(@Nullable String command) {
            this.command = command;
            return this;
        }

        /** Settings of module {@code name}; replaces earlier ones. */
        public Builder module(String name, Module settings) {
            modules.put(name, settings);
            return this;
        }

        public Builder modules(Map<String, Module> settings) {
            modules.putAll(settings);
            return this;
        }

        public Builder rust(Rust rust) {
            this.rust = rust;
            return this;
        }

        public Builder c(C c) {
            this.c = c;
            return this;
        }

        public GuestBuildConfig build() {
            return new GuestBuildConfig(sourcesDir, modulesDir, workDir, timeout, quietPeriod, pollInterval, outputLimit,
                    concurrency, command, new LinkedHashMap<>(modules), rust, c);
        }
    }
}
