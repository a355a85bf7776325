package io.github.tinywasm.wasi.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpointAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiHealthIndicator;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetrics;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetricsAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicWebSocketHandler;
import io.github.tinywasm.wasi.autoconfigure.websocket.WasiWebSocketAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;

/** Every condition of the auto-configuration, with {@link ApplicationContextRunner}. */
class WasiAutoConfigurationTests {

    private static final AutoConfigurations ALL = AutoConfigurations.of(WasiAutoConfiguration.class,
            WasiWebSocketAutoConfiguration.class, WasiEndpointAutoConfiguration.class, WasiMetricsAutoConfiguration.class);

    @TempDir
    Path modules;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(ALL)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    private WebApplicationContextRunner webRunner() {
        return new WebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(ALL)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void nonWebApplicationGetsTheEngineButNoWebSocket() {
        runner().run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class).hasSingleBean(WasiServerLifecycle.class)
                    .hasSingleBean(WasiPublisher.class).hasSingleBean(WasiEventBridge.class)
                    .doesNotHaveBean(TopicWebSocketHandler.class).doesNotHaveBean(WebSocketHandlerMapping.class);
            assertThat(context.getBean(WasiServer.class).isRunning()).isTrue();
            assertThat(context.getBean(WasiServer.class).config().modulesDir()).isEqualTo(modules);
        });
    }

    @Test
    void propertiesReachTheEngineConfiguration() {
        runner().withPropertyValues("tinywasm.wasi.engine=interpreter", "tinywasm.wasi.mailbox.capacity=7",
                "tinywasm.wasi.mailbox.overflow=drop", "tinywasm.wasi.max-memory=1MB", "tinywasm.wasi.call-timeout=2s",
                "tinywasm.wasi.worker-threads=3", "tinywasm.wasi.subscriber-threads=5", "tinywasm.wasi.watch=false")
                .run(context -> {
                    WasiConfig config = context.getBean(WasiServer.class).config();
                    assertThat(config.engine()).isEqualTo(Engine.INTERPRETER);
                    assertThat(config.mailboxCapacity()).isEqualTo(7);
                    assertThat(config.overflowPolicy()).isEqualTo(io.github.tinywasm.wasi.OverflowPolicy.DROP);
                    assertThat(config.maxMemoryBytes()).isEqualTo(1024 * 1024);
                    assertThat(config.callTimeout()).hasSeconds(2);
                    assertThat(config.workerThreads()).isEqualTo(3);
                    assertThat(config.subscriberThreads()).isEqualTo(5);
                    assertThat(config.watch()).isFalse();
                });
    }

    @Test
    void disabledMeansNothing() {
        webRunner().withPropertyValues("tinywasm.wasi.enabled=false").run(context -> assertThat(context)
                .doesNotHaveBean(WasiServer.class).doesNotHaveBean(TopicWebSocketHandler.class)
                .doesNotHaveBean(WasiEndpoint.class).doesNotHaveBean(WasiMetrics.class));
    }

    @Test
    void userBeansTakePrecedence() {
        runner().withUserConfiguration(OwnServer.class).run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class);
            assertThat(context.getBean(WasiServer.class)).isSameAs(context.getBean("myServer"));
        });
        webRunner().withUserConfiguration(OwnPolicy.class).run(context -> {
            assertThat(context).hasSingleBean(TopicAccessPolicy.class);
            assertThat(context.getBean(TopicAccessPolicy.class)).isSameAs(OwnPolicy.POLICY);
        });
    }

    @Test
    void everyBroadcasterBeanHearsGuestBroadcasts() {
        java.util.List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        webRunner().withBean("extraBroadcaster", io.github.tinywasm.wasi.WebSocketBroadcaster.class,
                () -> (module, topic, payload) -> heard.add(module + ":" + topic)).run(context -> {
                    WasiServer server = context.getBean(WasiServer.class);
                    server.load("feeder", io.github.tinywasm.wasi.Guests.onIn("feed", """
                                (call $ws_broadcast (i32.const 32) (i32.const 4) (local.get $p) (local.get $l))
                            """));
                    server.publish("in", "x");
                    org.awaitility.Awaitility.await().until(() -> heard.contains("feeder:feed"));
                    assertThat(server.module("feeder").orElseThrow().counters().broadcasts()).isEqualTo(1);
                });
    }

    @Test
    void eventBridgeCanBeTurnedOff() {
        runner().withPropertyValues("tinywasm.wasi.events.enabled=false")
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(WasiEventBridge.class));
    }

    @Test
    void webApplicationGetsTheWebSocketEndpoint() {
        webRunner().run(context -> {
            assertThat(context).hasSingleBean(TopicWebSocketHandler.class).hasBean("wasiWebSocketHandlerMapping")
                    .hasSingleBean(TopicAccessPolicy.class);
            assertThat(context.getBean(WasiServer.class)).isNotNull();
        });
    }

    @Test
    void webSocketCanBeTurnedOffOrMissingItsContainer() {
        webRunner().withPropertyValues("tinywasm.wasi.websocket.enabled=false")
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicWebSocketHandler.class));
        webRunner().withClassLoader(new FilteredClassLoader("jakarta.websocket.server"))
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicWebSocketHandler.class));
    }

    @Test
    void actuatorPartsNeedActuator() {
        webRunner().withPropertyValues("management.endpoints.web.exposure.include=wasi")
                .run(context -> assertThat(context).hasSingleBean(WasiEndpoint.class).hasSingleBean(WasiHealthIndicator.class));
        webRunner().run(context -> assertThat(context).doesNotHaveBean(WasiEndpoint.class)); // not exposed
        webRunner().withPropertyValues("management.endpoints.web.exposure.include=wasi")
                .withClassLoader(new FilteredClassLoader(Endpoint.class))
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(WasiEndpoint.class));
        runner().withPropertyValues("management.health.wasi.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(WasiHealthIndicator.class));
    }

    @Test
    void metricsNeedMicrometerAndARegistry() {
        runner().run(context -> assertThat(context).doesNotHaveBean(WasiMetrics.class));
        runner().withUserConfiguration(Registry.class).run(context -> assertThat(context).hasSingleBean(WasiMetrics.class));
        runner().withUserConfiguration(Registry.class).withClassLoader(new FilteredClassLoader(MeterRegistry.class))
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(WasiMetrics.class));
    }

    @Test
    void badValuesFailStartUpNamingTheProperty() {
        assertStartupFails("tinywasm.wasi.mailbox.capacity=0", "tinywasm.wasi.mailbox.capacity", "must be at least 1");
        assertStartupFails("tinywasm.wasi.websocket.path=ws", "tinywasm.wasi.websocket.path", "must start with '/'");
        assertStartupFails("tinywasm.wasi.drain-timeout=-1s", "tinywasm.wasi.drain-timeout", "must not be negative");
        assertStartupFails("tinywasm.wasi.max-memory=1KB", "tinywasm.wasi.max-memory", "must be 0 (no limit) or between 64KB and 4GB");
        assertStartupFails("tinywasm.wasi.max-module-size=4B", "tinywasm.wasi.max-module-size", "must be between 8B and 2GB");
        assertStartupFails("tinywasm.wasi.modules-dir=ftp://host/modules", "tinywasm.wasi.modules-dir", "must be a folder");
        assertStartupFails("tinywasm.wasi.engine=turbo", "turbo", "");
        assertStartupFails("tinywasm.wasi.mailbox.overflow=explode", "explode", "");
    }

    @Test
    void theCompileCacheSettingsReachTheEngine() {
        Path cacheDir = modules.resolveSibling("compile-cache");
        runner().withPropertyValues("tinywasm.wasi.cache-dir=" + cacheDir, "tinywasm.wasi.cache.max-size=10MB",
                "tinywasm.wasi.cache.memory-entries=3", "tinywasm.wasi.cache.memory-max-size=2MB").run(context -> {
            io.github.tinywasm.wasi.deploy.CompileCacheConfig cache = context.getBean(WasiServer.class).config().compileCache();
            assertThat(cache).isEqualTo(new io.github.tinywasm.wasi.deploy.CompileCacheConfig(cacheDir, 10L * 1024 * 1024, 3,
                    2L * 1024 * 1024));
        });
        runner().run(context -> assertThat(context.getBean(WasiServer.class).config().compileCache())
                .isEqualTo(io.github.tinywasm.wasi.deploy.CompileCacheConfig.DEFAULTS));
    }

    @Test
    void capabilitiesReachTheEngineAndABadPatternStopsStartUp() {
        runner().withPropertyValues("tinywasm.wasi.modules.users.publish=users.>,audit.*",
                "tinywasm.wasi.modules.users.subscribe=users.requests", "tinywasm.wasi.modules.other.http.pool-size=2")
                .run(context -> {
                    WasiConfig config = context.getBean(WasiServer.class).config();
                    io.github.tinywasm.wasi.policy.Capabilities users = config.capabilities("users");
                    assertThat(users.allows(io.github.tinywasm.wasi.policy.Capabilities.Call.PUBLISH, "users.changed")).isTrue();
                    assertThat(users.allows(io.github.tinywasm.wasi.policy.Capabilities.Call.PUBLISH, "audit.x")).isTrue();
                    assertThat(users.allows(io.github.tinywasm.wasi.policy.Capabilities.Call.PUBLISH, "chat.in")).isFalse();
                    assertThat(users.allows(io.github.tinywasm.wasi.policy.Capabilities.Call.SUBSCRIBE, "other")).isFalse();
                    assertThat(users.allows(io.github.tinywasm.wasi.policy.Capabilities.Call.BROADCAST, "anything")).isTrue();
                    assertThat(config.capabilities("other").unrestricted()).isTrue();
                });
        runner().withPropertyValues("tinywasm.wasi.modules.users.publish=users.>,bad..pattern").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("publish[1]")
                    .hasMessageContaining("bad..pattern").hasMessageContaining("topic pattern");
        });
    }

    @Test
    void theHttpCapabilityReachesTheEngineAndEveryBadPathPatternIsReportedAtOnce() {
        runner().withPropertyValues("tinywasm.wasi.modules.users.http.paths=/api/**,/users/*",
                "tinywasm.wasi.modules.echo.http.enabled=false").run(context -> {
                    WasiConfig config = context.getBean(WasiServer.class).config();
                    io.github.tinywasm.wasi.policy.HttpAccess users = config.capabilities("users").http();
                    assertThat(users.enabled()).isTrue();
                    assertThat(users.pathTexts()).containsExactly("/api/**", "/users/*");
                    assertThat(users.allows("/api/v1")).isTrue();
                    assertThat(users.allows("/admin")).isFalse();
                    assertThat(config.capabilities("echo").http().enabled()).isFalse();
                    assertThat(config.capabilities("echo").unrestricted()).isFalse();
                    assertThat(config.capabilities("other").http().unrestricted()).isTrue();
                    assertThat(config.http().basePath()).isEqualTo("/m");
                });
        runner().withPropertyValues("tinywasm.wasi.http.path=/guests", "tinywasm.wasi.modules.users.http.paths=/x")
                .run(context -> assertThat(context.getBean(WasiServer.class).config().http().basePath()).isEqualTo("/guests"));
        runner().withPropertyValues("tinywasm.wasi.modules.users.http.paths=/ok,api/x,/a//b",
                "tinywasm.wasi.modules.chat.http.paths[0]=/**/x", "tinywasm.wasi.modules.users.publish=bad..topic")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .hasMessageContaining("modules[users].http.paths[1]").hasMessageContaining("api/x")
                            .hasMessageContaining("modules[users].http.paths[2]").hasMessageContaining("/a//b")
                            .hasMessageContaining("modules[chat].http.paths[0]").hasMessageContaining("/**/x")
                            .hasMessageContaining("modules[users].publish[0]").hasMessageContaining("path pattern")
                            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("paths[0]=/ok")
                                    .doesNotContain("modules[users].http.paths[0]"));
                });
    }

    @Test
    void maxModuleSizeReachesTheEngine() {
        runner().withPropertyValues("tinywasm.wasi.max-module-size=1MB")
                .run(context -> assertThat(context.getBean(WasiServer.class).config().maxModuleSize()).isEqualTo(1024 * 1024));
        runner().run(context -> assertThat(context.getBean(WasiServer.class).config().maxModuleSize())
                .isEqualTo(64L * 1024 * 1024));
    }

    @Test
    void modulesDirIsCreatedOrReported() throws Exception {
        Path missing = modules.resolve("a/b/modules");
        runner().withPropertyValues("tinywasm.wasi.modules-dir=" + missing)
                .run(context -> assertThat(missing).isDirectory());
        Path file = modules.resolve("not-a-dir");
        java.nio.file.Files.writeString(file, "x");
        runner().withPropertyValues("tinywasm.wasi.modules-dir=" + file).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ModulesLocationException.class)
                    .hasMessageContaining("tinywasm.wasi.modules-dir").hasMessageContaining("is a file, not a folder");
        });
    }

    @Test
    void aFileLocationIsAWatchedFolder() throws Exception {
        java.nio.file.Files.write(modules.resolve("relay.wasm"), io.github.tinywasm.wasi.Guests.relay("in", "out"));
        runner().withPropertyValues("tinywasm.wasi.modules-dir=" + modules.toUri()).run(context -> {
            WasiServer server = context.getBean(WasiServer.class);
            assertThat(server.config().modulesDir()).isEqualTo(modules);
            assertThat(server.config().watch()).isTrue();
            assertThat(server.module("relay")).hasValueSatisfying(m -> assertThat(m.file()).isEqualTo(modules.resolve("relay.wasm").toString()));
        });
    }

    @Test
    void aClasspathLocationLoadsModulesFromAJarReadOnly() throws Exception {
        Path jar = modules.resolve("guests.jar");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("wasm/"));
            out.putNextEntry(new java.util.jar.JarEntry("wasm/relay.wasm"));
            out.write(io.github.tinywasm.wasi.Guests.relay("in", "out"));
            out.putNextEntry(new java.util.jar.JarEntry("wasm/broken.wasm"));
            out.write("not wasm".getBytes());
            out.putNextEntry(new java.util.jar.JarEntry("wasm/notes.txt"));
            out.write("not a module".getBytes());
        }
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {jar.toUri().toURL()},
                getClass().getClassLoader())) {
            runner().withClassLoader(loader).withPropertyValues("tinywasm.wasi.modules-dir=classpath:wasm/").run(context -> {
                WasiServer server = context.getBean(WasiServer.class);
                assertThat(server.config().modulesDir()).isNull(); // nothing to watch
                assertThat(context.getBean(ModulesLocation.class).readOnly()).isTrue();
                assertThat(server.modules()).extracting(io.github.tinywasm.wasi.ModuleInfo::name).containsExactly("broken", "relay");
                assertThat(server.module("relay").orElseThrow().serving()).isTrue();
                assertThat(server.module("broken").orElseThrow().state()).isEqualTo(io.github.tinywasm.wasi.ModuleState.FAILED);

                io.github.tinywasm.wasi.Collector out = new io.github.tinywasm.wasi.Collector();
                server.subscribe("out", out);
                server.publish("in", "from the jar");
                assertThat(out.awaitCount(1).get(0).payloadAsString()).isEqualTo("from the jar");
            });
        }
    }

    private void assertStartupFails(String property, String name, String reason) {
        runner().withPropertyValues(property).run(context -> {
            assertThat(context).hasFailed();
            StringBuilder all = new StringBuilder();
            for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
                all.append(t.getMessage()).append('\n');
                if (t instanceof org.springframework.boot.context.properties.bind.validation.BindValidationException v) {
                    v.getValidationErrors().getAllErrors().forEach(e -> all.append(e.getObjectName()).append('.')
                            .append(((org.springframework.validation.FieldError) e).getField()).append(' ')
                            .append(e.getDefaultMessage()).append('\n'));
                }
            }
            assertThat(all.toString()).as("failure of %s", property).contains(name).contains(reason);
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnServer {
        @Bean(destroyMethod = "close")
        WasiServer myServer() {
            return new WasiServer(WasiConfig.defaults());
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnPolicy {
        static final TopicAccessPolicy POLICY = request -> request.topic().startsWith("public.");

        @Bean
        TopicAccessPolicy myPolicy() {
            return POLICY;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Registry {
        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }
}
