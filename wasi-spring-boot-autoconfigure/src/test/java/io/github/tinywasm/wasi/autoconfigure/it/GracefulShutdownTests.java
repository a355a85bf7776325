package io.github.tinywasm.wasi.autoconfigure.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.LogCapture;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Closing a web application with {@code server.shutdown=graceful} delivers what was accepted and drains every
 * module before the context is closed.
 */
class GracefulShutdownTests {

    @TempDir
    Path modules;

    @Test
    void shutdownDeliversAcceptedMessagesAndDrainsEveryModule() throws Exception {
        // Relays "in" to "out"; its drain() asks to be polled again twice (20 ms each), logging every poll.
        Files.write(modules.resolve("worker.wasm"), Guests.wat(Guests.relayWat("in", "out", """
                  (global $polls (mut i32) (i32.const 0))
                  (data (i32.const 900) "drain poll")
                  (func (export "drain") (result i32)
                    (call $log (i32.const 900) (i32.const 10))
                    (global.set $polls (i32.add (global.get $polls) (i32.const 1)))
                    (if (result i32) (i32.le_s (global.get $polls) (i32.const 2))
                      (then (i32.const 20)) (else (i32.const 0))))
                """)));
        ConfigurableApplicationContext context = new SpringApplicationBuilder(TestApplication.class)
                .properties("server.port=0", "server.shutdown=graceful", "tinywasm.wasi.modules-dir=" + modules,
                        "tinywasm.wasi.drain-timeout=5s")
                .run();
        // after start-up: Spring Boot re-initialises the logging system while it starts
        try (LogCapture logs = new LogCapture()) {
            WasiPublisher publisher = context.getBean(WasiPublisher.class);
            for (int i = 0; i < 2000; i++) {
                publisher.publish("in", "m" + i);
            }
            context.close();

            List<String> lines = logs.lines();
            assertThat(lines.stream().filter(l -> l.endsWith("[worker] drain poll")).count()).isEqualTo(3);
            assertThat(lines).anyMatch(l -> l.contains("[worker] unloaded: 2000 messages delivered, 0 dropped in all"));
            assertThat(lines).noneMatch(l -> l.contains("drain timeout"));
            assertThat(context.isActive()).isFalse();
        }
    }
}
