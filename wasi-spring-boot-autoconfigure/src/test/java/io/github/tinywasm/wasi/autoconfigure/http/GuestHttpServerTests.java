package io.github.tinywasm.wasi.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.autoconfigure.it.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * HTTP to guests seen from operations, on a real Tomcat (Spring MVC) and a real Reactor Netty (WebFlux) with Actuator:
 * Spring's {@code http.server.requests} carries {@code tinywasm.module} (the module, or {@code none}), and the
 * {@code wasi} endpoint shows how each module answers HTTP. The behaviour of {@code /m} itself is the shared suite of
 * the integration tests.
 */
class GuestHttpServerTests {

    @TempDir
    Path modules;

    private ConfigurableApplicationContext context;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void stop() {
        if (context != null) {
            context.close();
        }
    }

    private void start(WebApplicationType type) throws Exception {
        Files.write(modules.resolve("users.wasm"), Guests.built("http_users"));
        Files.write(modules.resolve("logger.wasm"), Guests.built("http_logger"));
        Files.createDirectories(modules.resolve("logger"));
        Files.writeString(modules.resolve("logger/rule.txt"), "*");
        context = new SpringApplicationBuilder(TestApplication.class).web(type)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "management.endpoints.web.exposure.include=wasi,health,metrics",
                        "tinywasm.wasi.modules.users.http.pool-size=2")
                .run();
    }

    private HttpResponse<String> get(String path) throws Exception {
        int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(value = WebApplicationType.class, names = {"SERVLET", "REACTIVE"})
    void httpServerRequestsCarryTheModule(WebApplicationType type) throws Exception {
        start(type);
        HttpResponse<String> users = get("/m/users/42");
        assertThat(users.statusCode()).isEqualTo(200);
        assertThat(users.body()).isEqualTo("users: GET /m/users/42");
        assertThat(get("/m/nobody/42").statusCode()).isEqualTo(404);
        assertThat(get("/m/logger").statusCode()).isEqualTo(404);
        assertThat(get("/actuator/health").statusCode()).isEqualTo(200);

        MeterRegistry registry = context.getBean(MeterRegistry.class);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Timer module = registry.find("http.server.requests").tag("tinywasm.module", "users").timer();
            assertThat(module).isNotNull();
            assertThat(module.count()).isEqualTo(1);
            assertThat(module.getId().getTag("status")).isEqualTo("200");
            assertThat(registry.find("http.server.requests").tag("tinywasm.module", "logger").tag("status", "404").timer())
                    .as("a middleware named as a target: a loaded module, answered 404").isNotNull();
            assertThat(registry.find("http.server.requests").tag("tinywasm.module", "none").tag("status", "404").timer())
                    .as("an unknown name is not a tag value").isNotNull();
            assertThat(registry.find("http.server.requests").tag("uri", "/actuator/health").timer().getId()
                    .getTag("tinywasm.module")).isEqualTo("none");
        });
        assertThat(registry.find("http.server.requests").timers())
                .allSatisfy(t -> assertThat(t.getId().getTag("tinywasm.module")).as("%s", t.getId()).isNotNull());
        assertThat(registry.find("http.server.requests").tag("tinywasm.module", "nobody").timer()).isNull();
        assertThat(registry.get("wasi.http.requests").tag("module", "users").functionCounter().count()).isEqualTo(1);
        assertThat(registry.get("wasi.http.requests").tag("module", "logger").functionCounter().count()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = WebApplicationType.class, names = {"SERVLET", "REACTIVE"})
    void theEndpointShowsHowEachModuleAnswersHttp(WebApplicationType type) throws Exception {
        start(type);
        get("/m/users/1");
        String users = get("/actuator/wasi/users").body();
        assertThat(users).contains("\"http\":{\"mode\":\"compatible\",\"order\":0,\"poolSize\":2,\"requests\":1,"
                + "\"errors\":0,\"rejected\":0,\"enabled\":true}");
        String logger = get("/actuator/wasi/logger").body();
        assertThat(logger).contains("\"mode\":\"compatible\",\"middleware\":\"*\",\"ruleSource\":\"" + modules.resolve("logger/rule.txt"));
        assertThat(get("/actuator/wasi").body()).contains("\"users\":{").contains("\"mode\":\"compatible\"");
    }
}
