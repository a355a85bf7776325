package io.github.tinywasm.wasi.autoconfigure.metrics;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.github.tinywasm.wasi.autoconfigure.websocket.WasiWebSocketAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/** Micrometer metrics of tinywasm-wasi, when Micrometer and a {@link MeterRegistry} are present. */
@AutoConfiguration(after = {WasiAutoConfiguration.class, WasiWebSocketAutoConfiguration.class},
        afterName = {"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
                "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({WasiServer.class, MeterRegistry.class})
public final class WasiMetricsAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    WasiMetrics wasiMetrics(WasiServer server, ObjectProvider<TopicFanOut> webSocket) {
        return new WasiMetrics(server, webSocket.getIfAvailable());
    }
}
