package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** The Spring MVC adapter on a real Tomcat, for races between a session's start and its end. */
class TopicWebSocketHandlerTests {

    @TempDir
    Path modules;

    /**
     * A session whose connection ends while it is being registered (a broadcast reached it at once and its write
     * failed on a sender thread, as when a client resets right after its handshake) is still removed from the
     * fan-out: nothing is left behind.
     */
    @Test
    void aSessionThatEndsWhileItIsBeingRegisteredIsNotLeftBehind() throws Exception {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(EndsAtOnce.class)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .run()) {
            int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
            TopicFanOut fanOut = context.getBean(TopicFanOut.class);
            HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws?topic=t"), new WebSocket.Listener() { })
                    .get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.stats().opened() == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.sessionCount() == 0 && fanOut.stats().closed() == 1);
            assertThat(fanOut.topics()).isEmpty();
        }
    }

    /** A fan-out whose sessions end (their write failed) as soon as they are registered. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class EndsAtOnce {

        @Bean
        TopicFanOut topicFanOut(WasiProperties properties) {
            return new TopicFanOut(properties.websocket().sendBufferSize().toBytes(),
                    properties.websocket().sendTimeLimit()) {
                @Override
                @Nullable TopicSession open(String topic, ClientChannel channel, @Nullable String since, boolean offsets) {
                    TopicSession session = super.open(topic, channel, since, offsets);
                    channel.abort(SERVER_ERROR, "write failed");
                    return session;
                }
            };
        }
    }
}
