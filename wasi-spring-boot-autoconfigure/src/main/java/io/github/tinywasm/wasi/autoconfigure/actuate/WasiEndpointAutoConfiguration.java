package io.github.tinywasm.wasi.autoconfigure.actuate;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import io.github.tinywasm.wasi.autoconfigure.ModulesLocation;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import io.github.tinywasm.wasi.autoconfigure.cluster.ClusterView;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.autoconfigure.endpoint.expose.EndpointExposure;
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
 * {@code management.endpoints.web.exposure.include}), its web extension (HTTP statuses), and the {@code wasi}
 * health indicator, which backs off when the application defines a {@code wasiHealthIndicator} or
 * {@code wasiHealthContributor} bean.
 */
@AutoConfiguration(after = WasiAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean(WasiServer.class)
public final class WasiEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    WasiEndpoint wasiEndpoint(WasiServer server, ObjectProvider<ModulesLocation> location,
            ObjectProvider<GuestBuilds> builds, ObjectProvider<ClusterView> cluster) {
        return new WasiEndpoint(server, location.getIfAvailable(), builds.getIfAvailable(), cluster.getIfAvailable());
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(WasiEndpoint.class)
    @ConditionalOnAvailableEndpoint(exposure = EndpointExposure.WEB)
    WasiEndpointWebExtension wasiEndpointWebExtension(WasiEndpoint endpoint) {
        return new WasiEndpointWebExtension(endpoint);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("wasi")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = {"wasiHealthIndicator", "wasiHealthContributor"})
        WasiHealthIndicator wasiHealthIndicator(WasiServer server, WasiProperties properties) {
            return new WasiHealthIndicator(server, properties.health().downOnFailedModule());
        }
    }
}
