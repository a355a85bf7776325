package io.github.tinywasm.wasi.autoconfigure.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import io.micrometer.core.instrument.Meter;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.websocket.WasiWebSocketAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;

/** Meters follow Micrometer's conventions and the modules' life: loads are not swaps, units are base units, an unloaded module's meters go. */
class WasiMetricsTests {

    @TempDir
    Path modules;

    @Test
    void webFluxApplicationsGetTheWebSocketMetersToo() {
        new ReactiveWebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, WasiWebSocketAutoConfiguration.class,
                        WasiMetricsAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    context.getBean(WasiMetrics.class).bindTo(registry);
                    assertThat(registry.find("wasi.websocket.sessions").gauge()).isNotNull();
                    assertThat(registry.find("wasi.websocket.frames.sent").functionCounter()).isNotNull();
                });
    }

    @Test
    void constructingTheBinderHasNoSideEffectAndBindingRegistersEverythingOnce() {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.start();
            server.load("early", Guests.relay("in", "out"));
            WasiMetrics metrics = new WasiMetrics(server, null);
            server.load("unseen", Guests.relay("in2", "out2")); // loaded before binding: nobody listens yet
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            assertThat(registry.getMeters()).isEmpty();

            metrics.bindTo(registry);
            assertThat(registry.find("wasi.messages.delivered").tag("module", "early").functionCounter()).isNotNull();
            assertThat(registry.find("wasi.messages.delivered").tag("module", "unseen").functionCounter()).isNotNull();
            metrics.bindTo(new SimpleMeterRegistry()); // a second registry is ignored, not a second listener
            server.load("late", Guests.relay("in3", "out3"));
            assertThat(registry.get("wasi.module.loads").tag("module", "late").timers()).hasSize(1);
            metrics.destroy();
        }
    }

    @Test
    void loadsSwapsUnitsAndRemoval() {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.start();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            WasiMetrics metrics = new WasiMetrics(server, null);
            metrics.bindTo(registry);

            server.load("relay", Guests.relay("in", "out"));
            assertThat(registry.get("wasi.module.loads").tags("module", "relay", "outcome", "success").timer().count()).isEqualTo(1);
            assertThat(registry.find("wasi.module.swaps").timer()).isNull();

            server.load("relay", Guests.relay("in", "out2"));
            assertThatThrownBy(() -> server.load("relay", "not wasm".getBytes())).isInstanceOf(WasiModuleException.class);
            assertThat(registry.get("wasi.module.swaps").tags("module", "relay", "outcome", "success").timer().count()).isEqualTo(1);
            assertThat(registry.get("wasi.module.swaps").tags("module", "relay", "outcome", "failure").timer().count()).isEqualTo(1);
            assertThat(registry.get("wasi.module.loads").tags("module", "relay").timer().count()).isEqualTo(1);
            assertThatThrownBy(() -> server.load("broken", "not wasm".getBytes())).isInstanceOf(WasiModuleException.class);
            assertThat(registry.get("wasi.module.loads").tags("module", "broken", "outcome", "failure").timer().count()).isEqualTo(1);

            Meter memory = registry.get("wasi.module.memory").tag("module", "relay").gauge();
            assertThat(memory.getId().getBaseUnit()).isEqualTo("bytes");
            assertThat(registry.get("wasi.module.memory").tag("module", "relay").gauge().value())
                    .isEqualTo(server.module("relay").orElseThrow().memoryBytes().doubleValue()).isPositive();
            assertThat(registry.get("wasi.mailbox.depth").tag("module", "relay").gauge().getId().getBaseUnit()).isEqualTo("messages");
            server.publish("in", "x");
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    registry.get("wasi.messages.delivered").tag("module", "relay").functionCounter().count() == 1);

            assertThat(server.unload("relay")).isTrue();
            assertThat(registry.getMeters()).noneMatch(m -> "relay".equals(m.getId().getTag("module")));
            assertThat(registry.getMeters()).anyMatch(m -> "broken".equals(m.getId().getTag("module")));

            server.load("relay", Guests.relay("in", "out")); // back again: a first load, counted from zero
            assertThat(registry.get("wasi.module.loads").tags("module", "relay").timer().count()).isEqualTo(1);
            assertThat(registry.get("wasi.messages.delivered").tag("module", "relay").functionCounter().count()).isZero();
            metrics.destroy();
        }
    }
}
