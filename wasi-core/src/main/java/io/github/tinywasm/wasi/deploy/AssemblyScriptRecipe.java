package io.github.tinywasm.wasi.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds an AssemblyScript guest, a folder with an {@code asconfig.json}: the project's own compiler
 * ({@code node_modules/assemblyscript}, in the folder or a folder above it, as npm installs it) with
 * {@code node asc --outFile <out>}, which reads {@code asconfig.json} (its entries, options and the
 * {@code release} target).
 *
 * @param folder the module's source folder
 */
record AssemblyScriptRecipe(Path folder) implements BuildRecipe {

    @Override
    public String kind() {
        return "assemblyscript";
    }

    @Override
    public Optional<String> missingToolchain() {
        if (Executables.find("node").isEmpty()) {
            return Optional.of("node is not installed: install Node.js and npm (Debian: apt-get install nodejs npm)");
        }
        if (asc().isEmpty()) {
            return Optional.of("AssemblyScript's compiler is not installed for " + folder
                    + ": run npm install --save-dev assemblyscript there (or in a folder above it)");
        }
        return Optional.empty();
    }

    @Override
    public void build(BuildProcess process, Path out) throws BuildFailure, InterruptedException {
        String node = Executables.find("node").map(Path::toString).orElse("node");
        Path asc = asc().orElseThrow(() -> BuildFailure.toolchainMissing("AssemblyScript's compiler is not installed"));
        process.run(List.of(node, asc.toString(), "--outFile", out.toString()), Map.of());
    }

    private Optional<Path> asc() {
        for (Path dir = folder.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path asc = dir.resolve("node_modules/assemblyscript/bin/asc.js");
            if (Files.isRegularFile(asc)) {
                return Optional.of(asc);
            }
        }
        return Optional.empty();
    }
}
