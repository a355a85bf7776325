package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WebSocketBroadcasterDecorator;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer Observations of the bus, opt-in with {@code tinywasm.wasi.observations.enabled=true}, when an
 * {@link ObservationRegistry} bean exists (Spring Boot provides one with Actuator). With Micrometer Tracing (and a
 * bridge such as Brave or OpenTelemetry) the observations are spans, and the trace context rides in the messages'
 * envelopes.
 */
@AutoConfiguration(before = WasiAutoConfiguration.class,
        afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass(ObservationRegistry.class)
@ConditionalOnBean(ObservationRegistry.class)
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.observations.enabled")
public final class WasiObservationAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(BusInterceptor.class)
    ObservingBusInterceptor wasiBusObservationInterceptor(ObservationRegistry registry) {
        return new ObservingBusInterceptor(registry);
    }

    @Bean
    @ConditionalOnMissingBean(name = "wasiBroadcastObservation")
    WebSocketBroadcasterDecorator wasiBroadcastObservation(ObservationRegistry registry) {
        return broadcaster -> new ObservingBroadcaster(broadcaster, registry);
    }
}
