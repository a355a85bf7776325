package io.github.tinywasm.wasi.autoconfigure.http;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import io.micrometer.observation.ObservationFilter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * HTTP to guests: registers {@code {tinywasm.wasi.http.path}/{name}/**} (default {@code /m}, any method) on the
 * application's web stack, Spring MVC ({@link GuestHttpMvcHandler}) or WebFlux ({@link GuestHttpWebFluxHandler}), as a
 * router function named {@code wasiHttpRouterFunction}; both answer asynchronously through
 * {@link WasiServer#http()}. With Micrometer Observation, Spring's {@code http.server.requests} gets a
 * {@code tinywasm.module} key ({@link GuestHttpObservations}). Off with {@code tinywasm.wasi.http.enabled=false}; every
 * bean backs off when the application defines its own.
 */
@AutoConfiguration(after = WasiAutoConfiguration.class)
@ConditionalOnWebApplication
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.http.enabled", matchIfMissing = true)
@ConditionalOnBean(WasiServer.class)
public final class WasiHttpAutoConfiguration {

    /** The route on Spring MVC. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = "org.springframework.web.servlet.function.RouterFunction")
    static class ServletHttpConfiguration {

        @Bean
        @ConditionalOnMissingBean
        GuestHttpMvcHandler guestHttpMvcHandler(WasiServer server, WasiProperties properties) {
            return new GuestHttpMvcHandler(server.http(), properties.http().path());
        }

        @Bean
        @ConditionalOnMissingBean(name = "wasiHttpRouterFunction")
        org.springframework.web.servlet.function.RouterFunction<org.springframework.web.servlet.function.ServerResponse>
                wasiHttpRouterFunction(GuestHttpMvcHandler handler, WasiProperties properties) {
            return org.springframework.web.servlet.function.RouterFunctions.route(
                    org.springframework.web.servlet.function.RequestPredicates.path(properties.http().path() + "/**"),
                    handler);
        }
    }

    /** The route on WebFlux. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = "org.springframework.web.reactive.function.server.RouterFunction")
    static class ReactiveHttpConfiguration {

        @Bean
        @ConditionalOnMissingBean
        GuestHttpWebFluxHandler guestHttpWebFluxHandler(WasiServer server, WasiProperties properties) {
            return new GuestHttpWebFluxHandler(server.http(), properties.http().path());
        }

        @Bean
        @ConditionalOnMissingBean(name = "wasiHttpRouterFunction")
        org.springframework.web.reactive.function.server.RouterFunction<org.springframework.web.reactive.function.server.ServerResponse>
                wasiHttpRouterFunction(GuestHttpWebFluxHandler handler, WasiProperties properties) {
            return org.springframework.web.reactive.function.server.RouterFunctions.route(
                    org.springframework.web.reactive.function.server.RequestPredicates.path(properties.http().path() + "/**"),
                    handler);
        }
    }

    /** The {@code tinywasm.module} key on every {@code http.server.requests} observation. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(ObservationFilter.class)
    static class ObservationConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "wasiHttpObservationFilter")
        ObservationFilter wasiHttpObservationFilter() {
            return GuestHttpObservations.noneForOtherRequests();
        }
    }
}
