package io.github.tinywasm.wasi.autoconfigure.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/**
 * With {@code spring.main.lazy-initialization=true} nothing is lost: modules load at start-up and what a guest
 * publishes reaches {@code @EventListener} methods, though no bean asked for the event bridge.
 */
class LazyInitializationTests {

    static final List<String> received = new CopyOnWriteArrayList<>();

    @TempDir
    Path modules;

    @Test
    void guestMessagesReachEventListenersUnderLazyInitialization() throws Exception {
        received.clear();
        // publishes "ready" on topic "started" from init(): nobody has to publish to it first
        Files.write(modules.resolve("greeter.wasm"), Guests.wat("""
                (module
                  (import "env" "publish" (func $publish (param i32 i32 i32 i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 16) "started")
                  (data (i32.const 32) "ready")
                  (func (export "init")
                    (call $publish (i32.const 16) (i32.const 7) (i32.const 32) (i32.const 5))))
                """));
        Files.write(modules.resolve("relay.wasm"), Guests.relay("in", "out"));
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(LazyApp.class)
                .web(WebApplicationType.NONE)
                .properties("spring.main.lazy-initialization=true", "tinywasm.wasi.modules-dir=" + modules,
                        "tinywasm.wasi.watch=false")
                .run()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("started:ready"));

            context.getBean(WasiPublisher.class).publish("in", "hello");
            await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("out:hello"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration.class)
    static class LazyApp {

        @Bean
        Listener listener() {
            return new Listener();
        }
    }

    static class Listener {
        @EventListener
        public void on(WasiMessageEvent event) {
            received.add(event.getTopic() + ":" + event.getPayloadAsString());
        }
    }
}
