package io.github.tinywasm.wasi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of a build: bounded output, recipes' detection and commands, what counts as a source. */
class BuildPartsTest {

    @TempDir
    Path dir;

    @Test
    void outputTailKeepsTheEndAndSaysWhatItLeftOut() {
        OutputTail tail = new OutputTail(16);
        tail.append("first line\n");
        assertThat(tail.text()).isEqualTo("first line\n");
        tail.append("second line\nthird\n");
        assertThat(tail.written()).isEqualTo(29);
        // the last 16 bytes are "d line\nthird\n" plus 3 before; the cut line is dropped
        assertThat(tail.text()).isEqualTo("[... 23 bytes of earlier output left out]\nthird\n");
        byte[] big = "x".repeat(100).getBytes(StandardCharsets.UTF_8);
        tail.append(big, 0, big.length);
        assertThat(tail.written()).isEqualTo(129);
        assertThat(tail.text()).endsWith("x".repeat(16)).startsWith("[... 113 bytes");
    }

    @Test
    void cargoArtifactMessagesGiveTheModuleFile() {
        String json = "{\"reason\":\"compiler-artifact\",\"target\":{\"kind\":[\"cdylib\"]},\"filenames\":"
                + "[\"/t/my \\\"odd\\\" dir/release/echo.wasm\",\"C:\\\\t\\\\x.d\"],\"fresh\":false}";
        assertThat(CargoRecipe.artifactFiles(json)).containsExactly("/t/my \"odd\" dir/release/echo.wasm", "C:\\t\\x.d");
        assertThat(CargoRecipe.artifactFiles("{\"reason\":\"build-finished\",\"success\":true}")).isEmpty();
    }

    @Test
    void placeholdersAreQuotedForTheShell() {
        assertThat(CommandRecipe.expand("cc -o {out} {dir}/{name}.c", "m", Path.of("/o/it's.wasm"), Path.of("/s/a b")))
                .isEqualTo("cc -o '/o/it'\\''s.wasm' '/s/a b'/'m'.c");
    }

    @Test
    void recipesAreDetectedInOrder() throws Exception {
        GuestBuildConfig config = GuestBuildConfig.builder(dir, dir).command("make")
                .module("mine", new GuestBuildConfig.Module("./mine.sh", null)).build();
        Path f = Files.createDirectories(dir.resolve("f"));
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("command");
        Files.writeString(f.resolve("helper.c"), "int x;\n");
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("command"); // no tinywasm.h
        Files.writeString(f.resolve("main.c"), "#include \"tinywasm.h\"\n");
        assertThat(BuildRecipe.detect("f", f, config)).get().isInstanceOf(ClangRecipe.class)
                .extracting(r -> ((ClangRecipe) r).sources()).asList().containsExactly(f.resolve("helper.c"), f.resolve("main.c"));
        Files.writeString(f.resolve("asconfig.json"), "{}");
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("assemblyscript");
        Files.writeString(f.resolve("Cargo.toml"), "[package]\nname = \"shared\"\n"); // a library, not a module
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("assemblyscript");
        Files.writeString(f.resolve("Cargo.toml"), "[lib]\ncrate-type = [\"cdylib\"]\n");
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("rust");
        Files.writeString(f.resolve("build.sh"), "");
        assertThat(BuildRecipe.detect("f", f, config)).map(BuildRecipe::kind).hasValue("script");
        assertThat(BuildRecipe.detect("mine", f, config)).get().isEqualTo(new CommandRecipe("command", null, "./mine.sh"));

        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThat(BuildRecipe.detect("empty", empty, GuestBuildConfig.builder(dir, dir).build())).isEmpty();
    }

    @Test
    void buildOutputAndEditorFilesAreNotSources() throws Exception {
        Path m = Files.createDirectories(dir.resolve("m"));
        Files.writeString(m.resolve("lib.rs"), "fn a() {}");
        Files.createDirectories(m.resolve("src/.cargo"));
        Files.writeString(m.resolve("src/.cargo/config.toml"), "[build]");
        String digest = GuestSources.contentDigest(m);
        for (String ignored : List.of("target/release/x.wasm", "node_modules/a/b.js", "Cargo.lock", ".lib.rs.swp",
                "lib.rs~", "4913", ".git/HEAD", ".idea/workspace.xml")) {
            Path p = m.resolve(ignored);
            Files.createDirectories(p.getParent());
            Files.writeString(p, "noise");
        }
        assertThat(GuestSources.contentDigest(m)).isEqualTo(digest);
        assertThat(GuestSources.files(m)).containsExactly(m.resolve("lib.rs"), m.resolve("src/.cargo/config.toml"));
        assertThat(GuestSources.directories(m)).containsExactlyInAnyOrder(m, m.resolve("src"), m.resolve("src/.cargo"));

        Files.setLastModifiedTime(m.resolve("lib.rs"), java.nio.file.attribute.FileTime.fromMillis(0)); // a touch
        assertThat(GuestSources.contentDigest(m)).isEqualTo(digest);
        Files.writeString(m.resolve("lib.rs"), "fn b() {}");
        assertThat(GuestSources.contentDigest(m)).isNotEqualTo(digest);
    }

    @Test
    void moduleFoldersAreTheFoldersWithAModuleName() throws Exception {
        Files.createDirectories(dir.resolve("users"));
        Files.createDirectories(dir.resolve(".git"));
        Files.createDirectories(dir.resolve("not a name"));
        Files.createDirectories(dir.resolve("target")); // of a Cargo workspace whose root is the sources folder
        Files.createDirectories(dir.resolve("node_modules"));
        Files.writeString(dir.resolve("users.wasm"), "");
        assertThat(GuestSources.moduleFolders(dir)).containsOnlyKeys("users");
    }

    @Test
    void aProgramThatIsMissingOrFailsIsAFailureWithItsOutput() throws Exception {
        OutputTail tail = new OutputTail(4096);
        BuildProcess process = new BuildProcess("m", dir, tail, Duration.ofMinutes(1));
        assertThatThrownBy(() -> process.run(List.of("/nonexistent/cc"), Map.of())).isInstanceOf(BuildFailure.class)
                .hasMessageStartingWith("cannot run /nonexistent/cc")
                .satisfies(e -> assertThat(((BuildFailure) e).state()).isEqualTo(GuestBuildStatus.State.TOOLCHAIN_MISSING));
        assertThatThrownBy(() -> process.run(List.of("sh", "-c", "echo to out; echo to err >&2; exit 4"), Map.of("X", "1")))
                .hasMessage("sh exited with 4");
        assertThat(tail.text()).contains("$ sh -c echo to out", "to out\n", "to err\n");
        assertThatThrownBy(() -> process.run(List.of("sh", "-c", "no-such-compiler-here"), Map.of()))
                .hasMessageStartingWith("a command of the build was not found (exit 127): ")
                .satisfies(e -> assertThat(((BuildFailure) e).state()).isEqualTo(GuestBuildStatus.State.TOOLCHAIN_MISSING));
    }

    @Test
    void configRefusesBadValuesByName() {
        assertThatThrownBy(() -> GuestBuildConfig.builder(dir, dir).timeout(Duration.ZERO).build())
                .hasMessage("timeout must be positive, was PT0S");
        assertThatThrownBy(() -> GuestBuildConfig.builder(dir, dir).concurrency(0).build())
                .hasMessage("concurrency must be at least 1, was 0");
        assertThatThrownBy(() -> GuestBuildConfig.builder(dir, dir)
                .module("x", new GuestBuildConfig.Module(null, Duration.ofSeconds(-1))).build())
                .hasMessage("modules.x.timeout must be positive, was PT-1S");
        assertThat(GuestBuildConfig.builder(dir, dir).module("x", new GuestBuildConfig.Module(null, Duration.ofSeconds(5)))
                .build().timeout("x")).hasSeconds(5);
    }
}
