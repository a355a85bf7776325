package io.github.tinywasm.wasi.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.http.HttpConfig;
import io.micrometer.observation.ObservationFilter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Each branch of {@link WasiHttpAutoConfiguration}, and the HTTP properties on their way to the engine. */
class WasiHttpAutoConfigurationTests {

    private static final AutoConfigurations CONFIGURATIONS = AutoConfigurations.of(WasiAutoConfiguration.class,
            WasiHttpAutoConfiguration.class);

    @TempDir
    Path modules;

    private WebApplicationContextRunner servlet() {
        return new WebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false");
    }

    private ReactiveWebApplicationContextRunner reactive() {
        return new ReactiveWebApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false");
    }

    @Test
    void springMvcGetsTheRouteToTheServersDispatcher() {
        servlet().run(context -> {
            assertThat(context).hasSingleBean(GuestHttpMvcHandler.class).hasBean("wasiHttpRouterFunction")
                    .doesNotHaveBean(GuestHttpWebFluxHandler.class).hasBean("wasiHttpObservationFilter");
            assertThat(context.getBean("wasiHttpRouterFunction"))
                    .isInstanceOf(org.springframework.web.servlet.function.RouterFunction.class);
            assertThat(context.getBean("wasiHttpObservationFilter")).isInstanceOf(ObservationFilter.class);
        });
    }

    @Test
    void webFluxGetsTheRouteToTheServersDispatcher() {
        reactive().run(context -> {
            assertThat(context).hasSingleBean(GuestHttpWebFluxHandler.class).hasBean("wasiHttpRouterFunction")
                    .doesNotHaveBean(GuestHttpMvcHandler.class);
            assertThat(context.getBean("wasiHttpRouterFunction"))
                    .isInstanceOf(org.springframework.web.reactive.function.server.RouterFunction.class);
        });
    }

    @Test
    void aNonWebApplicationOrOneThatTurnsItOffHasNoRoute() {
        new ApplicationContextRunner().withConfiguration(CONFIGURATIONS)
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class)
                        .doesNotHaveBean(GuestHttpMvcHandler.class).doesNotHaveBean("wasiHttpRouterFunction"));
        servlet().withPropertyValues("tinywasm.wasi.http.enabled=false").run(context -> assertThat(context)
                .hasSingleBean(WasiServer.class).doesNotHaveBean(GuestHttpMvcHandler.class)
                .doesNotHaveBean("wasiHttpRouterFunction"));
        reactive().withPropertyValues("tinywasm.wasi.http.enabled=false").run(context -> assertThat(context)
                .doesNotHaveBean(GuestHttpWebFluxHandler.class).doesNotHaveBean("wasiHttpRouterFunction"));
        servlet().withPropertyValues("tinywasm.wasi.enabled=false").run(context -> assertThat(context)
                .doesNotHaveBean(WasiServer.class).doesNotHaveBean(GuestHttpMvcHandler.class));
    }

    @Test
    void aSpringMvcApplicationWithoutFunctionalEndpointsHasNoRoute() {
        servlet().withClassLoader(new FilteredClassLoader("org.springframework.web.servlet.function"))
                .run(context -> assertThat(context).hasSingleBean(WasiServer.class)
                        .doesNotHaveBean(GuestHttpMvcHandler.class));
    }

    @Test
    void theApplicationsOwnBeansWin() {
        servlet().withUserConfiguration(OwnBeans.class).run(context -> {
            assertThat(context.getBean(GuestHttpMvcHandler.class)).isSameAs(OwnBeans.MVC);
            assertThat(context.getBean("wasiHttpRouterFunction")).isSameAs(OwnBeans.ROUTE);
            assertThat(context.getBean("wasiHttpObservationFilter")).isSameAs(OwnBeans.FILTER);
        });
        reactive().withUserConfiguration(OwnBeans.class).run(context ->
                assertThat(context.getBean(GuestHttpWebFluxHandler.class)).isSameAs(OwnBeans.FLUX));
    }

    @Test
    void thePropertiesReachTheEngineInBothFormsOfMiddleware() {
        servlet().withPropertyValues("tinywasm.wasi.http.max-request-size=10KB", "tinywasm.wasi.http.max-response-size=2MB",
                        "tinywasm.wasi.http.middleware.logger=*", "tinywasm.wasi.http.middleware.auth.rule=users,-admin",
                        "tinywasm.wasi.http.middleware.auth.order=-5", "tinywasm.wasi.modules.users.http.pool-size=3")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    WasiServer server = context.getBean(WasiServer.class);
                    HttpConfig http = server.config().http();
                    assertThat(server.http().maxRequestSize()).isEqualTo(10 * 1024);
                    assertThat(http.maxResponseSize()).isEqualTo(2 * 1024 * 1024);
                    assertThat(http.middleware()).isEqualTo(Map.of("logger", new HttpConfig.Middleware("*", 0),
                            "auth", new HttpConfig.Middleware("users,-admin", -5)));
                    assertThat(http.poolSize("users")).isEqualTo(3);
                    assertThat(http.poolSize("other")).isEqualTo(1);
                });
    }

    @Test
    void badHttpPropertiesAreReportedAllAtOnce() {
        servlet().withPropertyValues("tinywasm.wasi.http.path=/m/", "tinywasm.wasi.http.max-request-size=0B",
                        "tinywasm.wasi.modules.users.http.pool-size=0", "tinywasm.wasi.modules.api.http.pool-size=65",
                        "tinywasm.wasi.http.middleware.[-bad].rule=*")
                .run(context -> {
                    assertThat(context).hasFailed();
                    String all = describe(context.getStartupFailure());
                    assertThat(all).contains("http.path").contains("must start with '/', not end with '/'")
                            .contains("http.max-request-size").contains("modules[users].http.pool-size")
                            .contains("modules[api].http.pool-size").contains("must be between 1 and 64")
                            .contains("http.middleware[-bad]").contains("must be a module name");
                    // each error knows where its value was set, map entries included (Boot's report prints it)
                    org.springframework.boot.context.properties.bind.validation.BindValidationException bind =
                            findCause(context.getStartupFailure(),
                                    org.springframework.boot.context.properties.bind.validation.BindValidationException.class);
                    assertThat(bind.getValidationErrors().getAllErrors()).hasSize(5).allSatisfy(e -> assertThat(
                            ((org.springframework.boot.origin.OriginProvider) e).getOrigin()).as("origin of %s", e).isNotNull());
                });
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + t);
    }

    private static String describe(Throwable t) {
        StringBuilder out = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            out.append(c).append('\n');
            if (c instanceof org.springframework.boot.context.properties.bind.validation.BindValidationException b) {
                b.getValidationErrors().forEach(e -> out.append(e).append('\n'));
            }
        }
        return out.toString();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnBeans {
        static final GuestHttpMvcHandler MVC = new GuestHttpMvcHandler(new WasiServer(
                io.github.tinywasm.wasi.WasiConfig.defaults()).http(), "/own");
        static final GuestHttpWebFluxHandler FLUX = new GuestHttpWebFluxHandler(new WasiServer(
                io.github.tinywasm.wasi.WasiConfig.defaults()).http(), "/own");
        static final org.springframework.web.servlet.function.RouterFunction<org.springframework.web.servlet.function.ServerResponse>
                ROUTE = org.springframework.web.servlet.function.RouterFunctions.route(
                        org.springframework.web.servlet.function.RequestPredicates.path("/own/**"), MVC);
        static final ObservationFilter FILTER = context -> context;

        @Bean
        GuestHttpMvcHandler ownMvcHandler() {
            return MVC;
        }

        @Bean
        GuestHttpWebFluxHandler ownFluxHandler() {
            return FLUX;
        }

        @Bean
        org.springframework.web.servlet.function.RouterFunction<org.springframework.web.servlet.function.ServerResponse>
                wasiHttpRouterFunction() {
            return ROUTE;
        }

        @Bean
        ObservationFilter wasiHttpObservationFilter() {
            return FILTER;
        }
    }
}
