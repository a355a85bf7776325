package io.github.tinywasm.wasi.autoconfigure.observation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/** The observations, their names, keys and parents, with Micrometer's {@link TestObservationRegistry} and a real guest. */
class BusObservationTests {

    @TempDir
    Path modules;

    private final TestObservationRegistry registry = TestObservationRegistry.create();

    /** Every context started, and those stopped. */
    private final List<Observation.Context> started = new CopyOnWriteArrayList<>();
    private final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

    {
        registry.observationConfig().observationHandler(new io.micrometer.observation.ObservationHandler<>() {
            @Override
            public void onStart(Observation.Context context) {
                started.add(context);
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(WasiObservationAutoConfiguration.class, WasiAutoConfiguration.class))
                .withUserConfiguration(Beans.class)
                .withBean(ObservationRegistry.class, () -> registry)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void observationsAreOptIn() {
        runner().run(context -> assertThat(context).doesNotHaveBean(BusInterceptor.class));
        runner().withPropertyValues("tinywasm.wasi.observations.enabled=true")
                .withClassLoader(new FilteredClassLoader(ObservationRegistry.class))
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class).doesNotHaveBean(BusInterceptor.class));
        runner().withPropertyValues("tinywasm.wasi.observations.enabled=true")
                .run(context -> assertThat(context).hasSingleBean(ObservingBusInterceptor.class));
    }

    @Test
    void publishProcessAndBroadcastAreObservedWithTheirKeysAndParents() {
        runner().withPropertyValues("tinywasm.wasi.observations.enabled=true").run(context -> {
            context.getBean(WasiServer.class).load("echo", ObservedGuest.bytes());
            Beans beans = context.getBean(Beans.class);

            context.getBean(WasiPublisher.class).publish("in", "hello");
            await().atMost(Duration.ofSeconds(20)).until(() -> beans.events.size() == 1 && beans.broadcasts.size() == 1);
            // the listener runs inside the observation of the bridge's delivery
            await().atMost(Duration.ofSeconds(20)).until(() -> stopped.stream()
                    .anyMatch(c -> c instanceof BusProcessContext p && p.module() == null));

            TestObservationRegistryAssert.assertThat(registry)
                    .hasNumberOfObservationsWithNameEqualTo("tinywasm.bus.publish", 2)
                    .hasNumberOfObservationsWithNameEqualTo("tinywasm.websocket.broadcast", 1)
                    .hasAnObservation(o -> o.hasNameEqualTo("tinywasm.bus.publish")
                            .hasLowCardinalityKeyValue("messaging.system", "tinywasm")
                            .hasLowCardinalityKeyValue("messaging.operation", "publish")
                            .hasLowCardinalityKeyValue("tinywasm.module", "none")
                            .hasLowCardinalityKeyValue("error", "none")
                            .hasHighCardinalityKeyValue("messaging.destination.name", "in")
                            .doesNotHaveLowCardinalityKeyValueWithKey("messaging.destination.name"))
                    .hasAnObservation(o -> o.hasNameEqualTo("tinywasm.bus.process")
                            .hasLowCardinalityKeyValue("messaging.operation", "process")
                            .hasLowCardinalityKeyValue("tinywasm.module", "echo")
                            .hasHighCardinalityKeyValue("messaging.destination.name", "in"))
                    .hasAnObservation(o -> o.hasNameEqualTo("tinywasm.bus.publish")
                            .hasLowCardinalityKeyValue("tinywasm.module", "echo")
                            .hasHighCardinalityKeyValue("messaging.destination.name", "out"))
                    .hasAnObservation(o -> o.hasNameEqualTo("tinywasm.websocket.broadcast")
                            .hasLowCardinalityKeyValue("messaging.operation", "broadcast")
                            .hasLowCardinalityKeyValue("tinywasm.module", "echo")
                            .hasHighCardinalityKeyValue("messaging.destination.name", "view"));

            // the guest's publish and broadcast happen inside the observation of the message it handles
            Observation.Context echoProcess = context(o -> o instanceof BusProcessContext p && "echo".equals(p.module()));
            Observation.Context guestPublish = context(o -> o instanceof BusPublishContext p && "echo".equals(p.module()));
            Observation.Context broadcast = context(o -> o instanceof BroadcastContext);
            assertThat(guestPublish.getParentObservation().getContextView()).isSameAs(echoProcess);
            assertThat(broadcast.getParentObservation().getContextView()).isSameAs(echoProcess);
        });
    }

    @Test
    void aGuestErrorIsTheProcessObservationsError() {
        runner().withPropertyValues("tinywasm.wasi.observations.enabled=true").run(context -> {
            WasiServer server = context.getBean(WasiServer.class);
            server.load("echo", ObservedGuest.bytes());
            server.publish("in", "!boom");
            await().atMost(Duration.ofSeconds(20)).until(() -> server.module("echo").orElseThrow().counters().traps() == 1);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> TestObservationRegistryAssert.assertThat(registry)
                    .hasAnObservation(o -> o.hasNameEqualTo("tinywasm.bus.process")
                            .hasLowCardinalityKeyValue("tinywasm.module", "echo")
                            .hasLowCardinalityKeyValue("error", "WasiModuleException")));
            assertThat(stopped).anyMatch(c -> c instanceof BusProcessContext p && "echo".equals(p.module()) && c.getError() != null);
        });
    }

    private Observation.Context context(java.util.function.Predicate<Observation.Context> which) {
        return started.stream().filter(which).findFirst().orElseThrow();
    }

    @Configuration(proxyBeanMethods = false)
    static class Beans {
        final List<WasiMessageEvent> events = new CopyOnWriteArrayList<>();
        final List<String> broadcasts = new CopyOnWriteArrayList<>();

        @EventListener
        void on(WasiMessageEvent event) {
            events.add(event);
        }

        @Bean
        WebSocketBroadcaster recordingBroadcaster() {
            return (module, topic, payload) -> broadcasts.add(module + ":" + topic);
        }
    }
}
