package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One build of one module: checks the recipe's toolchain, runs it under the module's timeout into a private
 * work folder, checks that the result is WebAssembly, and deploys it into the modules folder by atomic rename
 * (a hidden {@code .<name>.wasm.build} file there, moved over {@code <name>.wasm}), so the server's
 * {@link ModuleDirectoryWatcher} swaps the module as it swaps any deployed file. A module with the same bytes
 * as the deployed one is not deployed again. Whatever fails, the deployed file is left as it was.
 *
 * <p>Log lines (logger {@code io.github.tinywasm.wasi.deploy.GuestBuilds}) name the module: INFO for a build
 * that succeeded, WARN with the build's output for one that failed or timed out, one ERROR line for a missing
 * toolchain.
 *
 * <p>Threads: runs on the build thread that created it; not shared.
 */
final class GuestBuild {

    private static final Logger log = LoggerFactory.getLogger(GuestBuilds.class);
    private static final byte[] WASM_MAGIC = {0, 'a', 's', 'm'};

    private final String name;
    private final Path folder;
    private final BuildRecipe recipe;
    private final GuestBuildConfig config;
    private final Path workDir;

    GuestBuild(String name, Path folder, BuildRecipe recipe, GuestBuildConfig config, Path workDir) {
        this.name = name;
        this.folder = folder;
        this.recipe = recipe;
        this.config = config;
        this.workDir = workDir;
    }

    /**
     * Runs the build; {@code building} is the module's status as it started. When the thread is interrupted (the
     * builds are stopping), the build's processes are killed, the status says so, and the thread's interrupt
     * flag is set again on return.
     *
     * @return the status after the build
     */
    GuestBuildStatus run(GuestBuildStatus building) {
        long started = System.nanoTime();
        OutputTail tail = new OutputTail(config.outputLimit());
        try {
            Optional<String> missing = recipe.missingToolchain();
            if (missing.isPresent()) {
                throw BuildFailure.toolchainMissing(missing.get());
            }
            Path out = workDir.resolve(name).resolve(name + ".wasm");
            Files.createDirectories(out.getParent());
            Files.deleteIfExists(out);
            recipe.build(new BuildProcess(name, folder, tail, config.timeout(name)), out);
            byte[] bytes = module(out);
            String sha = ModuleFiles.sha256(bytes);
            Path target = config.modulesDir().resolve(name + ModuleFiles.EXTENSION);
            boolean deployed = deploy(target, bytes);
            Duration took = since(started);
            if (deployed) {
                log.info("[{}] built ({}, {}) and deployed {} ({} bytes, sha256 {})", name, recipe.kind(),
                        BuildProcess.seconds(took), target, bytes.length, sha.substring(0, 12));
            } else {
                log.info("[{}] built ({}, {}): the same bytes as the deployed {}, nothing to swap", name, recipe.kind(),
                        BuildProcess.seconds(took), target);
            }
            return building.succeeded(tail.text(), Instant.now(), took, sha);
        } catch (BuildFailure f) {
            return failed(building, f.state(), f.getMessage(), tail, since(started));
        } catch (IOException e) {
            return failed(building, GuestBuildStatus.State.FAILED, "cannot write the module: " + e, tail, since(started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.info("[{}] build stopped before it finished: the guest builds are stopping", name);
            return building.failed(GuestBuildStatus.State.FAILED, "stopped before it finished (the guest builds were stopping)",
                    tail.text(), Instant.now(), since(started));
        }
    }

    private GuestBuildStatus failed(GuestBuildStatus building, GuestBuildStatus.State how, String reason, OutputTail tail,
            Duration took) {
        String output = tail.text();
        if (how == GuestBuildStatus.State.TOOLCHAIN_MISSING) {
            log.error("[{}] cannot build {} ({}): {}", name, folder, recipe.kind(), reason);
        } else {
            log.warn("[{}] build {} ({}, {}): {}; the serving version stays. Output:\n{}", name,
                    how == GuestBuildStatus.State.TIMED_OUT ? "timed out" : "failed", recipe.kind(),
                    BuildProcess.seconds(took), reason, indent(output));
        }
        return building.failed(how, reason, output, Instant.now(), took);
    }

    /** The module the build wrote to {@code out}, if it is one. */
    private static byte[] module(Path out) throws BuildFailure, IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(out);
        } catch (NoSuchFileException e) {
            throw BuildFailure.failed("the build succeeded but wrote no module to " + out);
        }
        if (bytes.length < WASM_MAGIC.length || !Arrays.equals(bytes, 0, WASM_MAGIC.length, WASM_MAGIC, 0, WASM_MAGIC.length)) {
            throw BuildFailure.failed("the build wrote " + bytes.length + " bytes to " + out
                    + " that are not a WebAssembly module (no \\0asm header)");
        }
        return bytes;
    }

    /** Moves {@code bytes} into place by atomic rename; false if the target already holds them. */
    private boolean deploy(Path target, byte[] bytes) throws IOException {
        if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), bytes)) {
            return false;
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + ".build");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return true;
    }

    private static Duration since(long startedNanos) {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    private static String indent(String output) {
        String text = output.strip();
        return text.isEmpty() ? "    (no output)" : "    " + text.replace("\n", "\n    ");
    }
}
