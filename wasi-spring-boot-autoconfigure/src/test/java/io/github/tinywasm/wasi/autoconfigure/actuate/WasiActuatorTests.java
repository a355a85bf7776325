package io.github.tinywasm.wasi.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.ModulesLocation;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** The endpoint, its web extension and the health indicator against a real server with real modules. */
class WasiActuatorTests {

    @TempDir
    Path modules;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, WasiEndpointAutoConfiguration.class));

    @Test
    void aModuleThatNeverLoadedIsReportedButKeepsTheApplicationUpUnlessAskedOtherwise() {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.start();
            server.load("good", Guests.relay("in", "out"));
            assertThatThrownBy(() -> server.load("bad", "text, not wasm".getBytes())).isInstanceOf(WasiModuleException.class);

            Health byDefault = new WasiHealthIndicator(server).health(true);
            assertThat(byDefault.getStatus()).isEqualTo(Status.UP);
            assertThat(byDefault.getDetails()).containsEntry("failedModules", 1);
            assertThat(byDefault.getDetails().get("modules").toString()).contains("bad={state=FAILED", "lastLoadFailed=true");

            assertThat(new WasiHealthIndicator(server, true).health(true).getStatus()).isEqualTo(Status.DOWN);
            server.unload("bad");
            assertThat(new WasiHealthIndicator(server, true).health(true).getStatus()).isEqualTo(Status.UP);
            server.stop();
            assertThat(new WasiHealthIndicator(server).health(true).getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
        }
    }

    @Test
    void thePropertyReachesTheIndicatorAndUserBeansByNameWin() {
        runner.withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.health.down-on-failed-module=true")
                .run(context -> {
                    WasiServer server = context.getBean(WasiServer.class);
                    assertThatThrownBy(() -> server.load("bad", "x".getBytes())).isInstanceOf(WasiModuleException.class);
                    assertThat(context.getBean(WasiHealthIndicator.class).health(false).getStatus()).isEqualTo(Status.DOWN);
                });
        for (String name : new String[] {"wasiHealthIndicator", "wasiHealthContributor"}) {
            runner.withPropertyValues("tinywasm.wasi.modules-dir=" + modules)
                    .withBean(name, HealthIndicator.class, () -> () -> Health.up().build())
                    .run(context -> assertThat(context).doesNotHaveBean(WasiHealthIndicator.class).hasBean(name));
        }
    }

    @Test
    void theWebExtensionMapsReloadOutcomesToStatuses() throws Exception {
        Files.write(modules.resolve("relay.wasm"), Guests.relay("in", "out"));
        try (WasiServer server = new WasiServer(WasiConfig.builder().modulesDir(modules).watch(false).build())) {
            server.start();
            WasiEndpointWebExtension web = new WasiEndpointWebExtension(new WasiEndpoint(server, ModulesLocation.of(modules.toString()), null));

            assertThat(web.reload("relay").getStatus()).isEqualTo(200);
            assertThat(web.module("relay").getStatus()).isEqualTo(200);
            assertThat(web.module("nope").getStatus()).isEqualTo(WebEndpointResponse.STATUS_NOT_FOUND);

            WebEndpointResponse<Object> unknown = web.reload("nope");
            assertThat(unknown.getStatus()).isEqualTo(404);
            assertThat(unknown.getBody().toString()).contains("no module named 'nope'").doesNotContain(modules.toString());
            assertThat(web.reload("..%2F..%2Fetc%2Fpasswd").getStatus()).isEqualTo(404);

            // not loaded yet (no watcher), but its file is there: reload loads it
            Files.write(modules.resolve("added.wasm"), Guests.relay("a", "b"));
            assertThat(web.reload("added").getStatus()).isEqualTo(200);
            assertThat(server.module("added")).isPresent();

            Files.writeString(modules.resolve("relay.wasm"), "broken now");
            WebEndpointResponse<Object> failed = web.reload("relay");
            assertThat(failed.getStatus()).isEqualTo(422);
            assertThat(failed.getBody().toString()).contains("INVALID_MODULE");
            assertThat(server.module("relay").orElseThrow().serving()).isTrue();
        }
    }

    @Test
    void aClasspathModuleIsReadOnly() {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.start();
            server.load("packaged", Guests.relay("in", "out"));
            WasiEndpoint endpoint = new WasiEndpoint(server, ModulesLocation.of("classpath:wasm"), null);
            assertThat(endpoint.reload("packaged").result()).isEqualTo(WasiEndpoint.ReloadOutcome.Result.READ_ONLY);
            WebEndpointResponse<Object> response = new WasiEndpointWebExtension(endpoint).reload("packaged");
            assertThat(response.getStatus()).isEqualTo(409);
            assertThat(response.getBody().toString()).contains("READ_ONLY", "classpath:wasm, which is read-only");
            assertThat(endpoint.modules().modules()).containsOnlyKeys("packaged");
            assertThat(endpoint.modules().location()).isEqualTo("classpath:wasm");
        }
    }

    /**
     * Attack that held (review1): a module name with dots ("chat.v2", from chat.v2.wasm) is reachable as
     * /actuator/wasi/chat.v2 over real HTTP, for reading and for a reload.
     */
    @Test
    void aModuleNameWithDotsWorksOverHttp() throws Exception {
        Files.write(modules.resolve("chat.v2.wasm"), Guests.relay("in", "out"));
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(
                io.github.tinywasm.wasi.autoconfigure.it.TestApplication.class)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "management.endpoints.web.exposure.include=wasi")
                .run()) {
            int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.URI uri = java.net.URI.create("http://localhost:" + port + "/actuator/wasi/chat.v2");
            java.net.http.HttpResponse<String> one = http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(one.statusCode()).isEqualTo(200);
            assertThat(one.body()).contains("\"name\":\"chat.v2\"");
            java.net.http.HttpResponse<String> reload = http.send(java.net.http.HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(reload.statusCode()).isEqualTo(200);
        }
    }
}
