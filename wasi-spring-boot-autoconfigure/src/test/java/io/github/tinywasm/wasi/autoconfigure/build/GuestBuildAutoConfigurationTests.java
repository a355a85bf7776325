package io.github.tinywasm.wasi.autoconfigure.build;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.LogCapture;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiServerLifecycle;
import io.github.tinywasm.wasi.deploy.GuestBuildConfig;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Every condition of {@link GuestBuildAutoConfiguration}, with {@link ApplicationContextRunner}. */
class GuestBuildAutoConfigurationTests {

    @TempDir
    Path modules;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, GuestBuildAutoConfiguration.class))
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void offByDefault() {
        runner().run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(GuestBuilds.class)
                .doesNotHaveBean(GuestBuildLifecycle.class).doesNotHaveBean(GuestBuildProperties.class));
    }

    @Test
    void enabledBuildsIntoTheServersModulesFolderFromItsSubFolders() {
        runner().withPropertyValues("tinywasm.wasi.build.enabled=true").run(context -> {
            assertThat(context).hasSingleBean(GuestBuilds.class).hasSingleBean(GuestBuildLifecycle.class);
            GuestBuilds builds = context.getBean(GuestBuilds.class);
            assertThat(builds.isRunning()).isTrue();
            GuestBuildConfig config = builds.config();
            assertThat(config.modulesDir()).isEqualTo(modules);
            assertThat(config.sourcesDir()).isEqualTo(modules);
            assertThat(config.timeout()).hasSeconds(60);
            assertThat(config.quietPeriod()).hasMillis(300);
            assertThat(config.outputLimit()).isEqualTo(64 * 1024);
            assertThat(config.rust()).isEqualTo(GuestBuildConfig.Rust.defaults());
            assertThat(config.c()).isEqualTo(GuestBuildConfig.C.defaults());
        });
    }

    @Test
    void propertiesReachTheEngineConfiguration(@TempDir Path sources) {
        runner().withPropertyValues("tinywasm.wasi.build.enabled=true", "tinywasm.wasi.build.sources=" + sources,
                "tinywasm.wasi.build.timeout=2m", "tinywasm.wasi.build.quiet-period=1s", "tinywasm.wasi.build.poll-interval=5s",
                "tinywasm.wasi.build.output-limit=8KB", "tinywasm.wasi.build.concurrency=1",
                "tinywasm.wasi.build.command=make OUT={out}", "tinywasm.wasi.build.modules.users.command=./users.sh",
                "tinywasm.wasi.build.modules[chat.v2].timeout=5m", "tinywasm.wasi.build.rust.cargo=cargo",
                "tinywasm.wasi.build.rust.target=wasm32-wasip1", "tinywasm.wasi.build.c.compiler=/opt/wasi-sdk/bin/clang",
                "tinywasm.wasi.build.c.include-dirs=/opt/include,/usr/include/tinywasm", "tinywasm.wasi.build.c.flags=-Os,-g0")
                .run(context -> {
                    GuestBuildConfig config = context.getBean(GuestBuilds.class).config();
                    assertThat(config.sourcesDir()).isEqualTo(sources);
                    assertThat(config.timeout()).hasMinutes(2);
                    assertThat(config.quietPeriod()).hasSeconds(1);
                    assertThat(config.pollInterval()).hasSeconds(5);
                    assertThat(config.outputLimit()).isEqualTo(8 * 1024);
                    assertThat(config.concurrency()).isEqualTo(1);
                    assertThat(config.command()).isEqualTo("make OUT={out}");
                    assertThat(config.modules().get("users")).isEqualTo(new GuestBuildConfig.Module("./users.sh", null));
                    assertThat(config.timeout("chat.v2")).hasMinutes(5);
                    assertThat(config.timeout("users")).hasMinutes(2);
                    assertThat(config.rust()).isEqualTo(new GuestBuildConfig.Rust("cargo", "/usr/bin/rustc", "wasm32-wasip1", null));
                    assertThat(config.c()).isEqualTo(new GuestBuildConfig.C("/opt/wasi-sdk/bin/clang",
                            List.of(Path.of("/opt/include"), Path.of("/usr/include/tinywasm")), List.of("-Os", "-g0")));
                });
    }

    @Test
    void badValueStopsStartUpNamingTheProperty() {
        runner().withPropertyValues("tinywasm.wasi.build.enabled=true", "tinywasm.wasi.build.timeout=0s").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                    .hasMessageContaining("tinywasm.wasi.build.timeout must be a positive duration (was PT0S)");
        });
    }

    @Test
    void offWhenTheEngineIsOff() {
        runner().withPropertyValues("tinywasm.wasi.enabled=false", "tinywasm.wasi.build.enabled=true")
                .run(context -> assertThat(context).doesNotHaveBean(WasiServer.class).doesNotHaveBean(GuestBuilds.class));
    }

    @Test
    void applicationsOwnBuildsAreUsed() {
        runner().withPropertyValues("tinywasm.wasi.build.enabled=true").withUserConfiguration(OwnBuilds.class).run(context -> {
            assertThat(context).hasSingleBean(GuestBuilds.class).hasSingleBean(GuestBuildLifecycle.class);
            assertThat(context.getBean(GuestBuilds.class).config().timeout()).hasSeconds(7);
            assertThat(context.getBean(GuestBuilds.class).isRunning()).isTrue();
        });
    }

    @Test
    void warnsWhenTheServerDoesNotWatchWhatTheBuildsDeploy() {
        try (LogCapture log = new LogCapture()) {
            runner().withPropertyValues("tinywasm.wasi.build.enabled=true", "tinywasm.wasi.watch=false")
                    .run(context -> assertThat(context).hasNotFailed());
            assertThat(log.contains(GuestBuildLifecycle.class.getName(), "tinywasm.wasi.watch is false")).isTrue();
        }
    }

    @Test
    void buildsStartBeforeTheServerAndStopAfterIt() {
        assertThat(GuestBuildLifecycle.PHASE).isLessThan(WasiServerLifecycle.PHASE);
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnBuilds {
        @Bean(destroyMethod = "close")
        GuestBuilds ownBuilds(WasiServer server) {
            Path modules = server.config().modulesDir();
            return new GuestBuilds(GuestBuildConfig.builder(modules, modules).timeout(Duration.ofSeconds(7)).build());
        }
    }
}
