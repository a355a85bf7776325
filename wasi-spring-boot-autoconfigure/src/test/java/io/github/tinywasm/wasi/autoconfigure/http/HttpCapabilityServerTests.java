package io.github.tinywasm.wasi.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.it.TestApplication;
import io.micrometer.core.instrument.MeterRegistry;
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
 * The HTTP capability ({@code tinywasm.wasi.modules.<name>.http.paths} and {@code .enabled}) over real HTTP, on Tomcat
 * (Spring MVC) and Reactor Netty (WebFlux) with Actuator: 403 outside a module's paths and for a disabled module,
 * counted in {@code wasi.guest.denied}, a disabled middleware skipped, and the paths in {@code /actuator/wasi/{name}}.
 */
class HttpCapabilityServerTests {

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
        Files.write(modules.resolve("echo.wasm"), Guests.built("http_echo"));
        Files.write(modules.resolve("auth.wasm"), Guests.built("http_auth")); // answers 401 without Authorization
        Files.createDirectories(modules.resolve("auth"));
        Files.writeString(modules.resolve("auth/rule.txt"), "users");
        context = new SpringApplicationBuilder(TestApplication.class).web(type)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "management.endpoints.web.exposure.include=wasi,metrics",
                        "tinywasm.wasi.modules.users.http.paths=/api/**,/users/*",
                        "tinywasm.wasi.modules.echo.http.enabled=false",
                        "tinywasm.wasi.modules.auth.http.enabled=false")
                .run();
        WasiServer server = context.getBean(WasiServer.class);
        await().atMost(Duration.ofSeconds(60)).until(() -> server.modules().size() == 3);
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, HttpRequest.BodyPublishers.ofString("body")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(value = WebApplicationType.class, names = {"SERVLET", "REACTIVE"})
    void requestsOutsideAModulesPathsAndToADisabledModuleAre403AndCounted(WebApplicationType type) throws Exception {
        start(type);
        HttpResponse<String> allowed = send("GET", "/m/users/api/v1?x=1");
        assertThat(allowed.statusCode()).as("auth is disabled: skipped as a middleware").isEqualTo(200);
        assertThat(allowed.body()).isEqualTo("users: GET /m/users/api/v1");
        assertThat(send("PUT", "/m/users/users/7").statusCode()).isEqualTo(200);

        HttpResponse<String> admin = send("POST", "/m/users/admin/delete");
        assertThat(admin.statusCode()).isEqualTo(403);
        assertThat(admin.body()).isEqualTo("module 'users' does not accept HTTP requests to path '/admin/delete'\n")
                .doesNotContain(modules.toString());
        assertThat(admin.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(send("GET", "/m/users").statusCode()).isEqualTo(403);

        HttpResponse<String> echo = send("GET", "/m/echo/anything");
        assertThat(echo.statusCode()).isEqualTo(403);
        assertThat(echo.body()).isEqualTo("module 'echo' does not accept HTTP requests\n");

        MeterRegistry registry = context.getBean(MeterRegistry.class);
        assertThat(registry.get("wasi.guest.denied").tag("module", "users").functionCounter().count()).isEqualTo(2);
        assertThat(registry.get("wasi.guest.denied").tag("module", "echo").functionCounter().count()).isEqualTo(1);
        assertThat(registry.get("wasi.guest.denied").tag("module", "auth").functionCounter().count()).isZero();
        assertThat(registry.get("wasi.http.requests").tag("module", "users").functionCounter().count()).isEqualTo(2);
        assertThat(registry.get("wasi.http.requests").tag("module", "auth").functionCounter().count()).isZero();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(registry.find("http.server.requests")
                .tag("tinywasm.module", "users").tag("status", "403").timer()).isNotNull());

        String users = send("GET", "/actuator/wasi/users").body();
        assertThat(users).contains("\"enabled\":true,\"paths\":[\"/api/**\",\"/users/*\"]").contains("\"denied\":2");
        assertThat(send("GET", "/actuator/wasi/echo").body()).contains("\"enabled\":false");
        assertThat(send("GET", "/actuator/wasi/auth").body()).contains("\"middleware\":\"users\"")
                .contains("\"enabled\":false");
    }
}
