package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.handler.SimpleUrlHandlerMapping;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;

/** Each branch of {@link WasiWebSocketAutoConfiguration}: Spring MVC, WebFlux, neither, and turned off. */
@ExtendWith(OutputCaptureExtension.class)
class WasiWebSocketAutoConfigurationTests {

    private static final AutoConfigurations CONFIGURATIONS = AutoConfigurations.of(WasiAutoConfiguration.class,
            WasiWebSocketAutoConfiguration.class);
    private static final String NOT_REGISTERED = "tinywasm-wasi WebSocket endpoint not registered";

    @TempDir
    Path modules;

    private WebApplicationContextRunner servlet() {
        return new WebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false");
    }

    private ReactiveWebApplicationContextRunner reactive() {
        return new ReactiveWebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false");
    }

    @Test
    void springMvcGetsTheServletEndpointFedByTheFanOut() {
        servlet().run(context -> {
            assertThat(context).hasSingleBean(TopicFanOut.class).hasSingleBean(TopicWebSocketHandler.class)
                    .hasSingleBean(TopicAccessPolicy.class).hasBean("wasiWebSocketHandlerMapping")
                    .doesNotHaveBean(ReactiveTopicWebSocketHandler.class)
                    .doesNotHaveBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class);
            assertThat(context.getBean("wasiWebSocketHandlerMapping")).isInstanceOf(WebSocketHandlerMapping.class);
            assertThat(context.getBean(TopicWebSocketHandler.class).fanOut()).isSameAs(context.getBean(TopicFanOut.class));
        });
    }

    @Test
    void webFluxGetsTheReactiveEndpointFedByTheFanOut() {
        reactive().run(context -> {
            assertThat(context).hasSingleBean(TopicFanOut.class).hasSingleBean(ReactiveTopicWebSocketHandler.class)
                    .hasSingleBean(ReactiveTopicHandshakeHandler.class).hasSingleBean(TopicAccessPolicy.class)
                    .hasBean("wasiWebSocketHandlerMapping").doesNotHaveBean(TopicWebSocketHandler.class)
                    .doesNotHaveBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class);
            SimpleUrlHandlerMapping mapping = context.getBean("wasiWebSocketHandlerMapping", SimpleUrlHandlerMapping.class);
            assertThat(mapping.getOrder()).isEqualTo(-2);
            assertThat(mapping.getUrlMap()).containsOnlyKeys("/ws");
            assertThat(context.getBean(ReactiveTopicWebSocketHandler.class).fanOut()).isSameAs(context.getBean(TopicFanOut.class));
        });
    }

    @Test
    void guestBroadcastsReachTheFanOutOnEitherStack() {
        servlet().run(context -> assertBroadcastsReachTheFanOut(context.getBean(WasiServer.class), context.getBean(TopicFanOut.class)));
        reactive().run(context -> assertBroadcastsReachTheFanOut(context.getBean(WasiServer.class), context.getBean(TopicFanOut.class)));
    }

    private static void assertBroadcastsReachTheFanOut(WasiServer server, TopicFanOut fanOut) {
        // a session of the fan-out that records what it is asked to write
        java.util.List<byte[]> written = new java.util.concurrent.CopyOnWriteArrayList<>();
        fanOut.open("feed", new TopicFanOutTests.RecordingChannel(written));
        server.load("feeder", Guests.onIn("feed", """
                    (call $ws_broadcast (i32.const 32) (i32.const 4) (local.get $p) (local.get $l))
                """));
        server.publish("in", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> written.size() == 1);
        assertThat(new String(written.get(0), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("x");
    }

    @Test
    void theApplicationsOwnBeansWin() {
        servlet().withUserConfiguration(OwnBeans.class).run(context -> {
            assertThat(context.getBean(TopicFanOut.class)).isSameAs(OwnBeans.FAN_OUT);
            assertThat(context.getBean(TopicAccessPolicy.class)).isSameAs(OwnBeans.POLICY);
        });
        reactive().withUserConfiguration(OwnBeans.class).run(context -> {
            assertThat(context.getBean(TopicFanOut.class)).isSameAs(OwnBeans.FAN_OUT);
            assertThat(context.getBean(ReactiveTopicWebSocketHandler.class).fanOut()).isSameAs(OwnBeans.FAN_OUT);
        });
    }

    @Test
    void aSpringMvcApplicationWithoutAJsr356ContainerSaysWhyThereIsNoEndpoint(CapturedOutput output) {
        servlet().withClassLoader(new FilteredClassLoader("jakarta.websocket.server")).run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicFanOut.class)
                    .doesNotHaveBean(TopicWebSocketHandler.class);
            assertThat(output).contains(NOT_REGISTERED + ": this Spring MVC application has no JSR-356 WebSocket container"
                    + " (add org.springframework.boot:spring-boot-starter-websocket)");
        });
    }

    @Test
    void aWebFluxApplicationWithoutReactiveWebSocketSupportSaysWhy(CapturedOutput output) {
        reactive().withClassLoader(new FilteredClassLoader("org.springframework.web.reactive.socket.server")).run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicFanOut.class);
            assertThat(output).contains(NOT_REGISTERED + ": this WebFlux application has no reactive WebSocket support");
        });
    }

    @Test
    void turnedOffItSaysSoOnEitherStack(CapturedOutput output) {
        servlet().withPropertyValues("tinywasm.wasi.websocket.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicFanOut.class);
            assertThat(context.getBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class).reason())
                    .isEqualTo("tinywasm.wasi.websocket.enabled is false");
        });
        reactive().withPropertyValues("tinywasm.wasi.websocket.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicFanOut.class);
            assertThat(context.getBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class).reason())
                    .isEqualTo("tinywasm.wasi.websocket.enabled is false");
        });
        assertThat(output).contains(NOT_REGISTERED + ": tinywasm.wasi.websocket.enabled is false");
    }

    @Test
    void aNonWebApplicationHasNoEndpointAndNothingToSay(CapturedOutput output) {
        new ApplicationContextRunner()
                .withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(TopicFanOut.class)
                        .doesNotHaveBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class));
        assertThat(output).doesNotContain(NOT_REGISTERED);
    }

    @Test
    void turningTheWholeStarterOffTurnsTheEndpointOff(CapturedOutput output) {
        servlet().withPropertyValues("tinywasm.wasi.enabled=false").run(context -> assertThat(context)
                .doesNotHaveBean(TopicFanOut.class).doesNotHaveBean(WasiServer.class)
                .doesNotHaveBean(WasiWebSocketAutoConfiguration.WebSocketUnavailableNotice.class));
        assertThat(output).doesNotContain(NOT_REGISTERED);
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnBeans {
        static final TopicFanOut FAN_OUT = new TopicFanOut(1024, Duration.ofSeconds(1));
        static final TopicAccessPolicy POLICY = request -> false;

        @Bean
        TopicFanOut myFanOut() {
            return FAN_OUT;
        }

        @Bean
        TopicAccessPolicy myPolicy() {
            return POLICY;
        }
    }
}
