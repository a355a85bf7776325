package io.github.tinywasm.wasi.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Collector;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.GuestBuildStatus.State;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Rust guest (the tinywasm crate) built by Debian's cargo when it is missing at start, then rebuilt and
 * swapped after an edit of its source, under a running server. The one Rust build test: Rust builds are the
 * slow ones.
 */
class RustGuestBuildTest {

    @TempDir
    Path tmp;

    @Test
    void rustModuleIsBuiltAtStartAndAnEditSwapsIt() throws Exception {
        Path sources = Files.createDirectories(tmp.resolve("sources"));
        Path modules = Files.createDirectories(tmp.resolve("modules"));
        Path crate = BuildFixtures.copy("rust-echo", sources, "rusty");
        GuestBuildConfig config = GuestBuildConfig.builder(sources, modules).quietPeriod(Duration.ofMillis(200))
                .pollInterval(Duration.ofMillis(500)).timeout(Duration.ofMinutes(5)).build();
        try (GuestBuilds builds = new GuestBuilds(config)) {
            builds.start();
            GuestBuildStatus built = builds.status("rusty").orElseThrow();
            assertThat(built.state()).as(built.lastOutput()).isEqualTo(State.SUCCEEDED);
            assertThat(built.kind()).isEqualTo("rust");
            assertThat(built.lastOutput()).contains("cargo rustc --release --offline --lib --target wasm32-wasi")
                    .contains("Compiling rust-echo");
            assertThat(crate.resolve("target/wasm32-wasi/release/rust_echo.wasm")).isRegularFile();

            try (WasiServer server = new WasiServer(WasiConfig.builder().modulesDir(modules)
                    .watchQuietPeriod(Duration.ofMillis(200)).watchPollInterval(Duration.ofMillis(500)).build())) {
                server.start();
                assertThat(server.module("rusty")).isPresent();
                assertThat(Collector.roundTrip(server, "rs.in", "rs.out", "hi")).isEqualTo("v1:hi");

                BuildFixtures.edit(crate.resolve("src/lib.rs"), "\"v1:\"", "\"v2:\"");
                await().atMost(Duration.ofMinutes(5)).until(() -> builds.status("rusty").orElseThrow().builds() == 2
                        && builds.status("rusty").orElseThrow().state() != State.BUILDING);
                GuestBuildStatus rebuilt = builds.status("rusty").orElseThrow();
                assertThat(rebuilt.state()).as(rebuilt.lastOutput()).isEqualTo(State.SUCCEEDED);
                await().atMost(Duration.ofSeconds(60)).until(() -> server.module("rusty").map(ModuleInfo::sha256).orElse("")
                        .equals(rebuilt.sha256()));
                assertThat(Collector.roundTrip(server, "rs.in", "rs.out", "hi")).isEqualTo("v2:hi");
                assertThat(server.module("rusty").orElseThrow().counters().swaps()).isEqualTo(1);
            }
        }
    }
}
