package io.github.tinywasm.wasi.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import tools.jackson.databind.json.JsonMapper;

/**
 * Objects as JSON payloads with the application's Jackson {@code JsonMapper}, through a real guest that relays the
 * bytes unchanged; and the byte/String API without Jackson.
 */
class TypedPayloadTests {

    record Order(String orderId, int quantity) {}

    @TempDir
    Path modules;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, WasiAutoConfiguration.class))
                .withUserConfiguration(Listener.class)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void objectsTravelAsJsonWrittenAndReadByTheApplicationsJsonMapper() {
        runner().withPropertyValues("spring.jackson.property-naming-strategy=SNAKE_CASE").run(context -> {
            assertThat(context).hasSingleBean(JacksonPayloadConverter.class);
            context.getBean(WasiServer.class).load("relay", Guests.relay("orders", "accepted"));
            Listener listener = context.getBean(Listener.class);

            context.getBean(WasiPublisher.class).publishObject("orders", new Order("A-1", 3));

            await().atMost(Duration.ofSeconds(20)).until(() -> !listener.events.isEmpty());
            WasiMessageEvent event = listener.events.get(0);
            assertThat(event.getPayloadAsString()).isEqualTo("{\"order_id\":\"A-1\",\"quantity\":3}"); // the application's naming
            assertThat(event.getPayload(Order.class)).isEqualTo(new Order("A-1", 3));
            assertThat(event.getPayload(String.class)).isEqualTo(event.getPayloadAsString());
        });
    }

    @Test
    void withoutJacksonBytesAndTextWorkAsBefore() {
        runner().withClassLoader(new FilteredClassLoader(JsonMapper.class)).run(context -> {
            assertThat(context).doesNotHaveBean(WasiPayloadConverter.class);
            context.getBean(WasiServer.class).load("relay", Guests.relay("orders", "accepted"));
            Listener listener = context.getBean(Listener.class);
            WasiPublisher publisher = context.getBean(WasiPublisher.class);

            publisher.publish("orders", "plain text");
            await().atMost(Duration.ofSeconds(20)).until(() -> !listener.events.isEmpty());
            WasiMessageEvent event = listener.events.get(0);
            assertThat(event.getPayload(String.class)).isEqualTo("plain text");
            assertThat(event.getPayload(byte[].class)).isEqualTo("plain text".getBytes());
            assertThatIllegalStateException().isThrownBy(() -> event.getPayload(Order.class))
                    .withMessageContaining("add Jackson");
            assertThatIllegalStateException().isThrownBy(() -> publisher.publishObject("orders", new Order("A-2", 1)))
                    .withMessageContaining("WasiPayloadConverter");
        });
    }

    @Test
    void anApplicationsOwnConverterIsUsed() {
        WasiPayloadConverter own = new WasiPayloadConverter() {
            @Override
            public byte[] write(Object value) {
                return ("own:" + value).getBytes();
            }

            @Override
            public <T> T read(byte[] payload, Class<T> type) {
                throw new UnsupportedOperationException();
            }
        };
        runner().withBean(WasiPayloadConverter.class, () -> own).run(context -> {
            assertThat(context).hasSingleBean(WasiPayloadConverter.class).doesNotHaveBean(JacksonPayloadConverter.class);
            context.getBean(WasiServer.class).load("relay", Guests.relay("orders", "accepted"));
            context.getBean(WasiPublisher.class).publishObject("orders", 42);
            Listener listener = context.getBean(Listener.class);
            await().atMost(Duration.ofSeconds(20)).until(() -> !listener.events.isEmpty());
            assertThat(listener.events.get(0).getPayloadAsString()).isEqualTo("own:42");
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class Listener {
        final List<WasiMessageEvent> events = new CopyOnWriteArrayList<>();

        @EventListener
        void on(WasiMessageEvent event) {
            events.add(event);
        }

        @Bean
        String marker() {
            return "listener";
        }
    }
}
