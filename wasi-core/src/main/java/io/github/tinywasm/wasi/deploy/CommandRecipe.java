package io.github.tinywasm.wasi.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Builds with the folder's own {@code build.sh} ({@code kind} {@code script}) or a configured command
 * ({@code command}).
 *
 * <p>{@code build.sh} runs in the module's folder with the file to write as {@code $1} and the module's name as
 * {@code $2}; it runs directly when it is executable (its {@code #!} line picks the shell), else with
 * {@code sh}. A configured command runs with {@code sh -c} after <code>{name}</code>, <code>{out}</code> and
 * <code>{dir}</code> are replaced by the module's name, the file to write and the source folder, each quoted
 * for the shell. Both also get them as {@code TINYWASM_MODULE}, {@code TINYWASM_OUT} and
 * {@code TINYWASM_SOURCES} in their environment.
 *
 * @param kind {@code script} or {@code command}
 * @param script the {@code build.sh}, or {@code null} for a configured command
 * @param command the configured command, or {@code null} for a script
 */
record CommandRecipe(String kind, @Nullable Path script, @Nullable String command) implements BuildRecipe {

    static CommandRecipe script(Path script) {
        return new CommandRecipe("script", script, null);
    }

    static CommandRecipe configured(String command) {
        return new CommandRecipe("command", null, command);
    }

    @Override
    public Optional<String> missingToolchain() {
        if (script != null && Files.isExecutable(script)) {
            return Optional.empty();
        }
        return Executables.find("sh").isPresent() ? Optional.empty()
                : Optional.of("no shell (sh) on PATH to run " + (script != null ? "build.sh" : "the configured build command")
                        + ": install a POSIX shell");
    }

    @Override
    public void build(BuildProcess process, Path out) throws BuildFailure, InterruptedException {
        String name = process.module();
        Path dir = process.dir();
        Map<String, String> env = Map.of("TINYWASM_MODULE", name, "TINYWASM_OUT", out.toString(),
                "TINYWASM_SOURCES", dir.toString());
        List<String> argv = new ArrayList<>();
        if (script != null) {
            if (Files.isExecutable(script)) {
                argv.add(script.toAbsolutePath().toString());
            } else {
                argv.add(sh());
                argv.add(script.getFileName().toString());
            }
            argv.add(out.toString());
            argv.add(name);
        } else {
            argv.add(sh());
            argv.add("-c");
            argv.add(expand(Objects.requireNonNull(command, "command"), name, out, dir)); // a script or a command
        }
        process.run(argv, env);
    }

    private static String sh() {
        return Executables.find("sh").map(Path::toString).orElse("sh");
    }

    /** {@code command} with <code>{name}</code>, <code>{out}</code> and <code>{dir}</code> replaced, quoted for sh. */
    static String expand(String command, String name, Path out, Path dir) {
        return command.replace("{name}", quote(name)).replace("{out}", quote(out.toString())).replace("{dir}", quote(dir.toString()));
    }

    /** {@code s} as one sh word: single-quoted, with each {@code '} written as {@code '\''}. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
