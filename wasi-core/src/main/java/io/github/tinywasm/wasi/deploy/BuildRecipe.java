package io.github.tinywasm.wasi.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * How one module's source folder is built into a {@code .wasm} file.
 *
 * <p>{@link #detect} picks the recipe from the folder, the first that applies:
 * <ol>
 * <li>the module's configured command ({@code modules.<name>.command});
 * <li>a {@code build.sh} in the folder;
 * <li>a {@code Cargo.toml} of a {@code cdylib} crate: Rust, with cargo, for {@code wasm32-wasi} (a library crate
 *     shared by modules is not a module);
 * <li>an {@code asconfig.json}: AssemblyScript, with the project's own {@code asc};
 * <li>{@code *.c} files, one of which includes {@code tinywasm.h}: C, with clang, as a WASI reactor;
 * <li>the global configured command ({@code command}), for folders none of the above applies to.
 * </ol>
 *
 * <p>Threads: recipes are immutable; a build thread calls {@link #build}.
 */
sealed interface BuildRecipe permits CargoRecipe, AssemblyScriptRecipe, ClangRecipe, CommandRecipe {

    /** How this recipe builds, as the status and the log name it: {@code rust}, {@code c}, ... */
    String kind();

    /** What must be installed (or configured) before this recipe can build, or empty when nothing. */
    Optional<String> missingToolchain() throws InterruptedException;

    /** Builds the module from {@code process.dir()} into {@code out}. */
    void build(BuildProcess process, Path out) throws BuildFailure, InterruptedException;

    /** The recipe for {@code folder}, or empty when nothing says how to build it. */
    static Optional<BuildRecipe> detect(String module, Path folder, GuestBuildConfig config) {
        GuestBuildConfig.Module own = config.modules().get(module);
        if (own != null && own.command() != null && !own.command().isBlank()) {
            return Optional.of(CommandRecipe.configured(own.command()));
        }
        if (Files.isRegularFile(folder.resolve("build.sh"))) {
            return Optional.of(CommandRecipe.script(folder.resolve("build.sh")));
        }
        if (CargoRecipe.isModuleCrate(folder.resolve("Cargo.toml"))) {
            return Optional.of(new CargoRecipe(config.rust()));
        }
        if (Files.isRegularFile(folder.resolve("asconfig.json"))) {
            return Optional.of(new AssemblyScriptRecipe(folder));
        }
        List<Path> cSources = ClangRecipe.guestSources(folder);
        if (!cSources.isEmpty()) {
            return Optional.of(new ClangRecipe(config.c(), cSources));
        }
        if (config.command() != null && !config.command().isBlank()) {
            return Optional.of(CommandRecipe.configured(config.command()));
        }
        return Optional.empty();
    }
}
