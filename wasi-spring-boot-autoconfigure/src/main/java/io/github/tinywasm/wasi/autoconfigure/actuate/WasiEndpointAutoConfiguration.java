package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Actuator support: the {@code wasi} endpoint (exposed like any endpoint, through
 * {@code management.endpoints.web.exposure.include}) and the {@code wasi} health indicator.
 */
@AutoConfiguration(after = WasiAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean(WasiServer.class)
public final class WasiEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    WasiEndpoint wasiEndpoint(WasiServer server) {
        return new WasiEndpoint(server);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("wasi")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "wasiHealthIndicator")
        WasiHealthIndicator wasiHealthIndicator(WasiServer server) {
            return new WasiHealthIndicator(server);
        }
    }
}
