package io.github.tinywasm.wasi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.github.tinywasm.wasi.Collector;
import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.GuestBuildStatus.State;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest modules built from real sources by real toolchains (clang, wat2wasm, AssemblyScript), deployed into a
 * real modules folder that a running {@link WasiServer} watches; each change is checked with a message round
 * trip through the module.
 */
class GuestBuildsTest {

    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Path sources;
    private Path modules;
    private GuestBuilds builds;
    private WasiServer server;

    private GuestBuildConfig.Builder config() throws Exception {
        sources = Files.createDirectories(tmp.resolve("sources"));
        modules = Files.createDirectories(tmp.resolve("modules"));
        return GuestBuildConfig.builder(sources, modules).quietPeriod(Duration.ofMillis(200))
                .pollInterval(Duration.ofMillis(500)).workDir(tmp.resolve("work"))
                .c(new GuestBuildConfig.C("clang", List.of(BuildFixtures.tinywasmHeaderDir()), List.of("-O2")));
    }

    /** Starts the builds (which build the missing modules), then a server on the modules folder, as Spring does. */
    private void start(GuestBuildConfig config) {
        builds = new GuestBuilds(config);
        builds.start();
        server = new WasiServer(WasiConfig.builder().modulesDir(config.modulesDir()).watchQuietPeriod(Duration.ofMillis(200))
                .watchPollInterval(Duration.ofMillis(500)).build());
        server.start();
    }

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        if (builds != null) {
            builds.close();
        }
    }

    private GuestBuildStatus status(String name) {
        return builds.status(name).orElseThrow();
    }

    private ModuleInfo module(String name) {
        return server.module(name).orElseThrow();
    }

    /** Waits until the module's build count reaches {@code n} and no build is running. */
    private GuestBuildStatus awaitBuilds(String name, long n) {
        await().atMost(DEADLINE).until(() -> status(name).builds() >= n && status(name).state() != State.BUILDING);
        return status(name);
    }

    /** Waits until the server serves what the last build of the module produced. */
    private void awaitServing(String name) {
        await().atMost(DEADLINE).until(() -> server.module(name).map(ModuleInfo::sha256).orElse("")
                .equals(status(name).sha256()));
    }

    @Test
    void cModuleMissingAtStartIsBuiltBeforeTheServerLoadsItAndAnEditSwapsIt() throws Exception {
        Path echo = BuildFixtures.copy("c-echo", config().build().sourcesDir(), "echo");
        start(config().build());

        // built by start(), so the server loaded it at its own start: no waiting
        assertThat(modules.resolve("echo.wasm")).isRegularFile();
        assertThat(status("echo").state()).isEqualTo(State.SUCCEEDED);
        assertThat(status("echo").kind()).isEqualTo("c");
        assertThat(status("echo").lastOutput()).contains("$ ").contains("--target=wasm32-wasi").contains("echo.c");
        assertThat(module("echo").sha256()).isEqualTo(status("echo").sha256());
        assertThat(Collector.roundTrip(server, "c.in", "c.out", "hi")).isEqualTo("v1:hi");

        BuildFixtures.edit(echo.resolve("echo.c"), "\"v1:\"", "\"v2:\"");
        awaitBuilds("echo", 2);
        assertThat(status("echo").state()).isEqualTo(State.SUCCEEDED);
        awaitServing("echo");
        assertThat(Collector.roundTrip(server, "c.in", "c.out", "hi")).isEqualTo("v2:hi");
        assertThat(module("echo").counters().swaps()).isEqualTo(1);
        assertThat(tmp.resolve("modules")).isDirectoryNotContaining("glob:**/.*"); // no temporary file left behind

        // Built on request though nothing changed: the same module, so nothing to swap.
        GuestBuildStatus again = builds.build("echo");
        assertThat(again.builds()).isEqualTo(3);
        assertThat(again.state()).isEqualTo(State.SUCCEEDED);
        assertThat(again.sha256()).isEqualTo(module("echo").sha256());
        assertThat(module("echo").counters().swaps()).isEqualTo(1);
    }

    @Test
    void brokenEditLeavesTheServingVersionAndShowsTheCompilerOutput() throws Exception {
        Path echo = BuildFixtures.copy("c-echo", config().build().sourcesDir(), "echo");
        start(config().build());
        String serving = module("echo").sha256();
        String good = Files.readString(echo.resolve("echo.c"));

        try (BuildLog log = new BuildLog()) {
            BuildFixtures.edit(echo.resolve("echo.c"), "tw_subscribe(\"c.in\");", "tw_subscribe(\"c.in\")");
            GuestBuildStatus failed = awaitBuilds("echo", 2);
            assertThat(failed.state()).isEqualTo(State.FAILED);
            assertThat(failed.failed()).isTrue();
            assertThat(failed.lastError()).contains("exited with 1");
            assertThat(failed.lastOutput()).contains("echo.c:7:").contains("error: expected ';'");
            assertThat(failed.lastFailureAt()).isNotNull();
            assertThat(failed.sha256()).isEqualTo(serving);
            assertThat(log.messages(Level.WARN, "[echo] build failed (c, ")).singleElement().asString()
                    .contains("the serving version stays").contains("error: expected ';'");
        }
        assertThat(Collector.roundTrip(server, "c.in", "c.out", "still")).isEqualTo("v1:still");
        assertThat(module("echo").sha256()).isEqualTo(serving);
        assertThat(module("echo").counters().swaps()).isZero();
        assertThat(modules.resolve("echo.wasm")).isRegularFile();

        // Fixed: the same module as the serving one, so nothing is deployed or swapped.
        Files.writeString(echo.resolve("echo.c"), good);
        GuestBuildStatus fixed = awaitBuilds("echo", 3);
        assertThat(fixed.state()).isEqualTo(State.SUCCEEDED);
        assertThat(fixed.lastError()).isNull();
        assertThat(fixed.sha256()).isEqualTo(serving);
        assertThat(fixed.failures()).isEqualTo(1);
        assertThat(module("echo").counters().swaps()).isZero();
    }

    @Test
    void buildPastItsTimeoutIsKilledWithItsChildrenAndReported() throws Exception {
        GuestBuildConfig.Builder config = config()
                .module("slow", new GuestBuildConfig.Module(null, Duration.ofSeconds(2)));
        Path slow = Files.createDirectories(sources.resolve("slow"));
        Path pids = tmp.resolve("pids");
        Files.writeString(slow.resolve("build.sh"), """
                #!/bin/sh
                # never ends: a child that sleeps, and the script waiting for it
                sleep 600 &
                echo "$$ $!" > '%s'
                wait
                """.formatted(pids));
        slow.resolve("build.sh").toFile().setExecutable(true);
        start(config.build());

        GuestBuildStatus status = status("slow");
        assertThat(status.state()).isEqualTo(State.TIMED_OUT);
        assertThat(status.lastError()).isEqualTo("ran past its timeout of 2 s; build.sh and its child processes were killed");
        assertThat(status.lastOutput()).contains("[killed after 2 s: the build's timeout]");
        assertThat(status.lastDuration()).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        for (String pid : Files.readString(pids).strip().split(" ")) {
            await().atMost(DEADLINE).until(() -> ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true));
        }
        assertThat(modules.resolve("slow.wasm")).doesNotExist();
        assertThat(server.module("slow")).isEmpty();
    }

    @Test
    void missingToolchainIsOneErrorLinePerModuleAndTheOthersStillBuild() throws Exception {
        GuestBuildConfig.Builder config = config().c(new GuestBuildConfig.C("/nonexistent/bin/clang", List.of(), List.of()));
        BuildFixtures.copy("c-echo", sources, "echo");
        BuildFixtures.copy("wat-script", sources, "wat");
        try (BuildLog log = new BuildLog()) {
            start(config.build());
            List<ILoggingEvent> errors = log.events().stream().filter(e -> e.getLevel() == Level.ERROR).toList();
            assertThat(errors).singleElement().satisfies(e -> {
                assertThat(e.getFormattedMessage()).startsWith("[echo] cannot build ")
                        .contains("/nonexistent/bin/clang is not installed").contains("apt-get install clang lld")
                        .doesNotContain("\n");
                assertThat(e.getThrowableProxy()).isNull();
            });
        }
        assertThat(status("echo").state()).isEqualTo(State.TOOLCHAIN_MISSING);
        assertThat(status("echo").lastError()).contains("install clang");
        assertThat(status("wat").state()).isEqualTo(State.SUCCEEDED);
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v1:hi");
    }

    @Test
    void aChangeDuringABuildRunsExactlyOneMoreBuildAfterItAndBuildsNeverOverlap() throws Exception {
        GuestBuildConfig.Builder config = config();
        Path gated = BuildFixtures.copy("wat-script", sources, "gated");
        Path gate = tmp.resolve("gate");
        Path runs = tmp.resolve("runs");
        Files.writeString(gated.resolve("build.sh"), """
                #!/bin/sh
                set -e
                mkdir '%1$s.lock'            # fails if another build of this module is running
                echo run >> '%2$s'
                while [ ! -f '%1$s' ]; do sleep 0.05; done
                wat2wasm -o "$1" guest.wat
                rmdir '%1$s.lock'
                """.formatted(gate, runs));
        // deployed already: nothing to build at start
        Files.write(modules.resolve("gated.wasm"), Guests.wat(Files.readString(gated.resolve("guest.wat"))));
        start(config.build());
        assertThat(status("gated").state()).isEqualTo(State.IDLE);
        assertThat(runs).doesNotExist();

        BuildFixtures.edit(gated.resolve("guest.wat"), "\"v1:\"", "\"v2:\"");
        await().atMost(DEADLINE).until(() -> Files.exists(runs));
        assertThat(status("gated").state()).isEqualTo(State.BUILDING);
        assertThat(status("gated").queued()).isFalse();
        BuildFixtures.edit(gated.resolve("guest.wat"), "\"v2:\"", "\"v3:\"");
        BuildFixtures.edit(gated.resolve("guest.wat"), "\"v3:\"", "\"v4:\"");
        // the change is seen while the first build still runs: one more build is queued behind it
        await().atMost(DEADLINE).until(() -> status("gated").queued());
        assertThat(status("gated").state()).isEqualTo(State.BUILDING);
        Files.createFile(gate);

        await().atMost(DEADLINE).until(() -> Files.readAllLines(runs).size() == 2 && status("gated").builds() == 2
                && status("gated").state() != State.BUILDING);
        assertThat(status("gated").state()).isEqualTo(State.SUCCEEDED);
        awaitServing("gated");
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v4:hi");
        assertThat(Files.readAllLines(runs)).hasSize(2);
        assertThat(status("gated").queued()).isFalse();
    }

    @Test
    void assemblyScriptGuestIsBuiltWithItsProjectsCompiler() throws Exception {
        GuestBuildConfig.Builder config = config();
        BuildFixtures.copy("as-echo", sources, "shouty");
        start(config.build());
        assertThat(status("shouty").state()).as(status("shouty").lastOutput()).isEqualTo(State.SUCCEEDED);
        assertThat(status("shouty").kind()).isEqualTo("assemblyscript");
        assertThat(Collector.roundTrip(server, "as.in", "as.out", "hi")).isEqualTo("v1:hi");
    }

    @Test
    void configuredCommandsBuildWithQuotedPlaceholders() throws Exception {
        sources = Files.createDirectories(tmp.resolve("it's sources"));
        modules = Files.createDirectories(tmp.resolve("modules"));
        // a folder no recipe knows, built by the global command; and one whose own command wins over its build.sh
        Path plain = BuildFixtures.copy("wat-script", sources, "plain");
        Files.delete(plain.resolve("build.sh"));
        Path own = BuildFixtures.copy("wat-script", sources, "own");
        BuildFixtures.edit(own.resolve("guest.wat"), "\"w.in\"", "\"o.in\"");
        Files.writeString(own.resolve("build.sh"), "#!/bin/sh\nexit 3\n");
        UnaryOperator<GuestBuildConfig.Builder> commands = b -> b
                .command("echo building {name} in {dir}; wat2wasm -o {out} guest.wat")
                .module("own", new GuestBuildConfig.Module("wat2wasm -o \"$TINYWASM_OUT\" guest.wat", null));
        start(commands.apply(GuestBuildConfig.builder(sources, modules).workDir(tmp.resolve("work"))).build());

        assertThat(status("plain").state()).isEqualTo(State.SUCCEEDED);
        assertThat(status("plain").kind()).isEqualTo("command");
        assertThat(status("plain").lastOutput()).contains("building plain in " + plain);
        assertThat(status("own").state()).isEqualTo(State.SUCCEEDED);
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "a")).isEqualTo("v1:a");
        assertThat(Collector.roundTrip(server, "o.in", "w.out", "b")).isEqualTo("v1:b");
    }

    @Test
    void folderWithNothingToBuildIsLeftAloneAndNewFoldersAreBuiltWhenTheyAppear() throws Exception {
        GuestBuildConfig.Builder config = config();
        Files.createDirectories(sources.resolve("rules"));
        Files.writeString(sources.resolve("rules/rule.txt"), "*");
        try (BuildLog log = new BuildLog()) {
            start(config.build());
            assertThat(status("rules").state()).isEqualTo(State.NO_RECIPE);
            assertThat(log.events()).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
        }
        assertThat(modules.resolve("rules.wasm")).doesNotExist();

        // Written elsewhere and moved in, as a checkout or a copy would: a new module, built and loaded.
        Path staged = BuildFixtures.copy("wat-script", tmp.resolve("staging"), "late");
        Files.move(staged, sources.resolve("late"));
        // serving, not only present: a module still loading has not subscribed yet
        await().atMost(DEADLINE).until(() -> server.module("late").map(m -> m.state() == io.github.tinywasm.wasi.ModuleState.SERVING).orElse(false));
        assertThat(status("late").state()).isEqualTo(State.SUCCEEDED);
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v1:hi");

        // A source folder that goes is forgotten; its module stays deployed.
        Files.walk(sources.resolve("late")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        await().atMost(DEADLINE).until(() -> builds.status("late").isEmpty());
        assertThat(server.module("late")).isPresent();
    }

    @Test
    void aBurstOfSavesRunsOneBuild() throws Exception {
        // a quiet period far longer than five saves in a row take, even on a busy machine
        GuestBuildConfig.Builder config = config().quietPeriod(Duration.ofMillis(2500));
        Path burst = BuildFixtures.copy("wat-script", sources, "burst");
        Files.write(modules.resolve("burst.wasm"), Guests.wat(Files.readString(burst.resolve("guest.wat"))));
        start(config.build());

        for (int v = 1; v <= 5; v++) {
            BuildFixtures.edit(burst.resolve("guest.wat"), "\"v" + v + ":\"", "\"v" + (v + 1) + ":\"");
        }
        assertThat(awaitBuilds("burst", 1).state()).isEqualTo(State.SUCCEEDED);
        awaitServing("burst");
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v6:hi");

        // one more save, one more build: none ran in between
        BuildFixtures.edit(burst.resolve("guest.wat"), "\"v6:\"", "\"v7:\"");
        awaitBuilds("burst", 2);
        awaitServing("burst");
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v7:hi");
        assertThat(status("burst").builds()).isEqualTo(2);
        assertThat(module("burst").counters().swaps()).isEqualTo(2);
    }

    @Test
    void closingKillsARunningBuildAndKeepsTheDeployedModule() throws Exception {
        GuestBuildConfig.Builder config = config();
        Path hang = BuildFixtures.copy("wat-script", sources, "hang");
        Path pids = tmp.resolve("pids");
        byte[] deployed = Guests.wat(Files.readString(hang.resolve("guest.wat")));
        Files.write(modules.resolve("hang.wasm"), deployed);
        Files.writeString(hang.resolve("build.sh"), """
                #!/bin/sh
                sleep 600 &
                echo "$$ $!" > '%s'
                wait
                """.formatted(pids));
        start(config.build());

        BuildFixtures.edit(hang.resolve("guest.wat"), "\"v1:\"", "\"v2:\"");
        await().atMost(DEADLINE).until(() -> Files.exists(pids) && Files.readString(pids).strip().contains(" "));
        assertThat(status("hang").state()).isEqualTo(State.BUILDING);
        builds.close();

        assertThat(builds.isRunning()).isFalse();
        assertThat(status("hang").state()).isEqualTo(State.FAILED);
        assertThat(status("hang").lastError()).contains("stopped before it finished");
        assertThat(status("hang").lastOutput()).contains("[stopped: the builds are shutting down]");
        for (String pid : Files.readString(pids).strip().split(" ")) {
            await().atMost(DEADLINE).until(() -> ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true));
        }
        assertThat(Files.readAllBytes(modules.resolve("hang.wasm"))).isEqualTo(deployed);
        assertThat(tmp.resolve("work")).exists(); // a configured work folder is the user's: kept
        await().atMost(DEADLINE).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("wasi-build")));
    }

    @Test
    void missingRustAndAssemblyScriptToolchainsAreNamed() throws Exception {
        GuestBuildConfig.Builder config = config()
                .rust(new GuestBuildConfig.Rust("/usr/bin/cargo", "/usr/bin/rustc", "wasm32-unknown-emscripten", null));
        BuildFixtures.copy("rust-echo", sources, "rusty");
        Path as = BuildFixtures.copy("as-echo", sources, "shouty");
        Files.delete(as.resolve("node_modules")); // the project's compiler is not installed
        try (BuildLog log = new BuildLog()) {
            start(config.build());
            assertThat(log.messages(Level.ERROR, "[rusty] cannot build")).singleElement().asString()
                    .contains("the Rust standard library for wasm32-unknown-emscripten is not installed for /usr/bin/rustc")
                    .contains("apt-get install rustc cargo libstd-rust-dev-wasm32");
            assertThat(log.messages(Level.ERROR, "[shouty] cannot build")).singleElement().asString()
                    .contains("AssemblyScript's compiler is not installed").contains("npm install --save-dev assemblyscript");
        }
        assertThat(status("rusty").state()).isEqualTo(State.TOOLCHAIN_MISSING);
        assertThat(status("shouty").state()).isEqualTo(State.TOOLCHAIN_MISSING);
        assertThat(server.modules()).isEmpty();

        builds.close();
        builds = new GuestBuilds(config.rust(new GuestBuildConfig.Rust("/nonexistent/cargo", "/usr/bin/rustc", "wasm32-wasi", null))
                .build());
        builds.start();
        assertThat(status("rusty").lastError()).startsWith("cargo (/nonexistent/cargo) is not installed: install Debian's");
    }

    @Test
    void stoppedBuildsStartAgainAndFollowTheSources() throws Exception {
        GuestBuildConfig.Builder config = config();
        Path wat = BuildFixtures.copy("wat-script", sources, "wat");
        start(config.build());
        assertThat(status("wat").builds()).isEqualTo(1);

        builds.stop();
        assertThat(builds.isRunning()).isFalse();
        BuildFixtures.edit(wat.resolve("guest.wat"), "\"v1:\"", "\"v2:\""); // not seen: stopped
        builds.start();
        assertThat(builds.isRunning()).isTrue();
        assertThat(status("wat").builds()).isEqualTo(1); // its .wasm is there: not built at start

        BuildFixtures.edit(wat.resolve("guest.wat"), "\"v2:\"", "\"v3:\"");
        awaitBuilds("wat", 2);
        awaitServing("wat");
        assertThat(Collector.roundTrip(server, "w.in", "w.out", "hi")).isEqualTo("v3:hi");
    }
}
