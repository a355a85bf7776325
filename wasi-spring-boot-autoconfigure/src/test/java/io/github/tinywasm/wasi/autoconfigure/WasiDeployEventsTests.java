package io.github.tinywasm.wasi.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpointAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetrics;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetricsAutoConfiguration;
import io.github.tinywasm.wasi.deploy.ModuleFiles;
import io.github.tinywasm.wasi.deploy.ProbationConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/** Rollbacks reach the application: a {@link WasiModuleRolledBackEvent} and the {@code wasi.module.rollbacks} counter. */
class WasiDeployEventsTests {

    @TempDir
    Path modules;

    @Configuration(proxyBeanMethods = false)
    static class Recorder {
        final List<WasiModuleRolledBackEvent> events = new CopyOnWriteArrayList<>();
        final List<WasiMessageEvent> deadLetters = new CopyOnWriteArrayList<>();

        @EventListener
        void on(WasiModuleRolledBackEvent event) {
            events.add(event);
        }

        @EventListener(condition = "#event.topic == 'wasi.dead-letter'")
        void deadLetter(WasiMessageEvent event) {
            deadLetters.add(event);
        }
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, WasiEndpointAutoConfiguration.class,
                        WasiMetricsAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withUserConfiguration(Recorder.class)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void theDeployPropertiesReachTheEngine() {
        runner().withPropertyValues("tinywasm.wasi.deploy.probation=30s", "tinywasm.wasi.deploy.max-traps=5")
                .run(context -> assertThat(context.getBean(WasiServer.class).config().probation())
                        .isEqualTo(new ProbationConfig(Duration.ofSeconds(30), 5)));
        runner().run(context -> assertThat(context.getBean(WasiServer.class).config().probation()).isEqualTo(ProbationConfig.OFF));
    }

    @Test
    void anAutomaticAndAManualRollbackArePublishedAndCounted() {
        runner().withPropertyValues("tinywasm.wasi.deploy.probation=5m", "tinywasm.wasi.deploy.max-traps=2").run(context -> {
            WasiServer server = context.getBean(WasiServer.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            context.getBean(WasiMetrics.class).bindTo(registry);
            Recorder recorder = context.getBean(Recorder.class);
            byte[] good = Guests.relay("in", "out");
            byte[] bad = Guests.onIn("out", "unreachable");
            server.load("m", good);
            server.load("m", bad);
            for (int i = 0; i < 2; i++) {
                server.publish("in", "poison " + i);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> recorder.events.size() == 1);
            WasiModuleRolledBackEvent automatic = recorder.events.get(0);
            assertThat(automatic.getModule()).isEqualTo("m");
            assertThat(automatic.isAutomatic()).isTrue();
            assertThat(automatic.getFromSha256()).isEqualTo(ModuleFiles.sha256(bad));
            assertThat(automatic.getToSha256()).isEqualTo(ModuleFiles.sha256(good));
            assertThat(automatic.getReason()).contains("2 traps or timeouts within the probation");
            assertThat(automatic.getSource()).isSameAs(server);
            assertThat(registry.get("wasi.module.rollbacks").tags("module", "m", "cause", "probation").counter().count())
                    .isEqualTo(1);

            server.rollback("m"); // forward to the bad version again, asked for: no probation for a rollback
            assertThat(recorder.events).hasSize(2);
            assertThat(recorder.events.get(1).isAutomatic()).isFalse();
            assertThat(registry.get("wasi.module.rollbacks").tags("module", "m", "cause", "manual").counter().count())
                    .isEqualTo(1);
            assertThat(server.module("m").orElseThrow().counters().rollbacks()).isEqualTo(2);
        });
    }

    @Test
    void deadLettersReachEventListenersAndAQuarantineShowsInTheEndpointAndHealth() {
        runner().withPropertyValues("tinywasm.wasi.quarantine.after=2").run(context -> {
            WasiServer server = context.getBean(WasiServer.class);
            Recorder recorder = context.getBean(Recorder.class);
            server.load("bad", Guests.onIn("out", "unreachable"));
            server.publish("in", "first");
            server.publish("in", "second");
            await().atMost(Duration.ofSeconds(20)).until(() -> recorder.deadLetters.size() == 2);
            assertThat(recorder.deadLetters).extracting(WasiMessageEvent::getPayloadAsString).containsExactly("first", "second");
            assertThat(recorder.deadLetters.get(0).getModule()).isEqualTo("bad");
            assertThat(recorder.deadLetters.get(0).getMessage().header("topic")).isEqualTo("in");
            assertThat(recorder.deadLetters.get(0).getMessage().header("error")).contains("on_message trapped");
            await().atMost(Duration.ofSeconds(20)).until(() -> server.module("bad").orElseThrow().state()
                    == io.github.tinywasm.wasi.ModuleState.QUARANTINED);

            io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint endpoint =
                    new io.github.tinywasm.wasi.autoconfigure.actuate.WasiEndpoint(server);
            assertThat(endpoint.module("bad").state()).isEqualTo("QUARANTINED");
            assertThat(endpoint.module("bad").counters().deadLettered()).isEqualTo(2);
            org.springframework.boot.health.contributor.Health health =
                    new io.github.tinywasm.wasi.autoconfigure.actuate.WasiHealthIndicator(server).health(true);
            assertThat(health.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
            assertThat(health.getDetails()).containsEntry("quarantinedModules", 1);
        });
    }
}
