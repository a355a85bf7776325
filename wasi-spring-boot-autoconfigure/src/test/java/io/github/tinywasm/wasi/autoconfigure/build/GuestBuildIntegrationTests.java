package io.github.tinywasm.wasi.autoconfigure.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Collector;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpointAutoConfiguration;
import io.github.tinywasm.wasi.deploy.BuildFixtures;
import io.github.tinywasm.wasi.deploy.GuestBuildStatus;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Development mode in a real application context: a C guest whose .wasm is missing is built by clang before the
 * server loads the modules folder, and an edit of its source swaps the module; a broken edit keeps the serving
 * version.
 */
class GuestBuildIntegrationTests {

    @TempDir
    Path modules;

    @Test
    void missingModuleIsBuiltBeforeTheServerStartsAndAnEditSwapsIt() {
        // the default layout: modules/echo/ holds the sources of modules/echo.wasm
        Path echo = BuildFixtures.copy("c-echo", modules, "echo");
        new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, GuestBuildAutoConfiguration.class))
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch-quiet-period=200ms",
                        "tinywasm.wasi.build.enabled=true", "tinywasm.wasi.build.quiet-period=200ms",
                        "tinywasm.wasi.build.c.include-dirs=" + BuildFixtures.tinywasmHeaderDir())
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    WasiServer server = context.getBean(WasiServer.class);
                    GuestBuilds builds = context.getBean(GuestBuilds.class);
                    // loaded by the server's own start: the build ran in an earlier phase
                    assertThat(server.module("echo")).isPresent();
                    assertThat(builds.status("echo").orElseThrow().state()).isEqualTo(GuestBuildStatus.State.SUCCEEDED);
                    assertThat(Collector.roundTrip(server, "c.in", "c.out", "hi")).isEqualTo("v1:hi");

                    BuildFixtures.edit(echo.resolve("echo.c"), "\"v1:\"", "\"v2:\"");
                    await().atMost(Duration.ofSeconds(60)).until(() -> builds.status("echo").orElseThrow().builds() == 2
                            && server.module("echo").map(ModuleInfo::sha256).orElse("")
                                    .equals(builds.status("echo").orElseThrow().sha256()));
                    assertThat(Collector.roundTrip(server, "c.in", "c.out", "hi")).isEqualTo("v2:hi");

                    String serving = server.module("echo").orElseThrow().sha256();
                    BuildFixtures.edit(echo.resolve("echo.c"), "#define PREFIX", "#define PREFIX oops");
                    await().atMost(Duration.ofSeconds(60)).until(() -> builds.status("echo").orElseThrow().builds() == 3
                            && builds.status("echo").orElseThrow().state() != GuestBuildStatus.State.BUILDING);
                    GuestBuildStatus failed = builds.status("echo").orElseThrow();
                    assertThat(failed.state()).isEqualTo(GuestBuildStatus.State.FAILED);
                    assertThat(failed.lastOutput()).contains("error:");
                    assertThat(Collector.roundTrip(server, "c.in", "c.out", "hi")).isEqualTo("v2:hi");
                    assertThat(server.module("echo").orElseThrow().sha256()).isEqualTo(serving);
                });
        assertThat(modules.resolve("echo.wasm")).isRegularFile();
        assertThat(Files.exists(modules.resolve(".echo.wasm.build"))).isFalse();
    }

    @Test
    void endpointShowsTheBuildOfAModuleWhoseFirstBuildFailed() {
        Path echo = BuildFixtures.copy("c-echo", modules, "echo");
        Path broken = BuildFixtures.copy("c-echo", modules, "broken");
        BuildFixtures.edit(broken.resolve("echo.c"), "#define PREFIX", "#define PREFIX oops");
        new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, GuestBuildAutoConfiguration.class,
                        WasiEndpointAutoConfiguration.class))
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.build.enabled=true",
                        "tinywasm.wasi.build.c.include-dirs=" + BuildFixtures.tinywasmHeaderDir(),
                        "management.endpoints.web.exposure.include=wasi")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    WasiEndpoint endpoint = context.getBean(WasiEndpoint.class);
                    // nothing of "broken" ever loaded: the endpoint still shows it, with the compiler's output
                    WasiEndpoint.ModuleDescriptor notLoaded = endpoint.module("broken");
                    assertThat(notLoaded).isNotNull();
                    assertThat(notLoaded.state()).isEqualTo(WasiEndpoint.ModuleDescriptor.NOT_LOADED);
                    assertThat(notLoaded.lastLoadFailed()).isTrue();
                    assertThat(notLoaded.build().state()).isEqualTo(GuestBuildStatus.State.FAILED);
                    assertThat(notLoaded.build().lastOutput()).contains("error:");
                    // a module that built and loaded carries its build status next to its slot's state
                    WasiEndpoint.ModuleDescriptor loaded = endpoint.module("echo");
                    assertThat(loaded.state()).isEqualTo("SERVING");
                    assertThat(loaded.build().state()).isEqualTo(GuestBuildStatus.State.SUCCEEDED);
                    assertThat(endpoint.module("nothing")).isNull();
                });
        assertThat(echo).isDirectory();
    }
}
