package io.github.tinywasm.wasi.autoconfigure.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.ModuleFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The deploy operations of {@code /actuator/wasi} over real HTTP: reload (forced or not), rollback, validate, unload. */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "tinywasm.wasi.watch=false",
        "management.endpoints.web.exposure.include=health,wasi"})
class WasiDeployOperationsTests {

    static Path modules;

    @DynamicPropertySource
    static void modules(DynamicPropertyRegistry registry) throws IOException {
        modules = Files.createTempDirectory("wasi-deploy");
        Files.write(modules.resolve("versioned.wasm"), Guests.relay("v-in", "v-out-1"));
        Files.write(modules.resolve("single.wasm"), Guests.relay("s-in", "s-out"));
        Files.write(modules.resolve("doomed.wasm"), Guests.relay("d-in", "d-out"));
        registry.add("tinywasm.wasi.modules-dir", modules::toString);
    }

    @LocalServerPort
    int port;

    @Autowired
    WasiServer server;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
        if (body != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return send("POST", path, body);
    }

    @Test
    void reloadRollbackAndValidate() throws Exception {
        byte[] v1 = Files.readAllBytes(modules.resolve("versioned.wasm"));
        HttpResponse<String> unchanged = post("/actuator/wasi/versioned", "{}");
        assertThat(unchanged.statusCode()).isEqualTo(200);
        assertThat(unchanged.body()).contains("\"result\":\"UNCHANGED\"", "\"swaps\":0");
        HttpResponse<String> forced = post("/actuator/wasi/versioned/reload", "{\"force\":true}");
        assertThat(forced.statusCode()).isEqualTo(200);
        assertThat(forced.body()).contains("\"result\":\"RELOADED\"", "\"swaps\":1")
                .as("the same bytes are no version to go back to").doesNotContain("previousSha256");

        byte[] v2 = Guests.relay("v-in", "v-out-2");
        Files.write(modules.resolve("versioned.wasm"), v2);
        HttpResponse<String> valid = post("/actuator/wasi/versioned/validate", "{}");
        assertThat(valid.statusCode()).isEqualTo(200);
        assertThat(valid.body()).contains("\"result\":\"VALID\"", "\"sha256\":\"" + ModuleFiles.sha256(v2),
                "\"sameAsServing\":false", "\"engine\":\"compiler\"");
        assertThat(server.module("versioned").orElseThrow().sha256()).as("validate serves nothing").isEqualTo(ModuleFiles.sha256(v1));

        HttpResponse<String> reloaded = post("/actuator/wasi/versioned/reload", "{}");
        assertThat(reloaded.statusCode()).isEqualTo(200);
        assertThat(reloaded.body()).contains("\"result\":\"RELOADED\"", "\"sha256\":\"" + ModuleFiles.sha256(v2),
                "\"previousSha256\":\"" + ModuleFiles.sha256(v1));
        assertThat(get("/actuator/wasi/versioned").body()).contains("\"previousSha256\":\"" + ModuleFiles.sha256(v1));

        HttpResponse<String> rolledBack = post("/actuator/wasi/versioned/rollback", "{}");
        assertThat(rolledBack.statusCode()).isEqualTo(200);
        assertThat(rolledBack.body()).contains("\"result\":\"ROLLED_BACK\"", "\"sha256\":\"" + ModuleFiles.sha256(v1),
                "\"previousSha256\":\"" + ModuleFiles.sha256(v2), "\"topics\":[\"v-in\"]");
        assertThat(server.module("versioned").orElseThrow().counters().swaps()).isEqualTo(3);

        Files.writeString(modules.resolve("versioned.wasm"), "not wasm at all");
        HttpResponse<String> invalid = post("/actuator/wasi/versioned/validate", "{}");
        assertThat(invalid.statusCode()).isEqualTo(422);
        assertThat(invalid.body()).contains("INVALID_MODULE", "not a valid WebAssembly module")
                .doesNotContain(modules.toString());
        assertThat(server.module("versioned").orElseThrow().lastLoadFailed()).as("a validation is not a load").isFalse();
    }

    @Test
    void errorsAreStatusesWithoutServerPaths() throws Exception {
        HttpResponse<String> noPrevious = post("/actuator/wasi/single/rollback", "{}");
        assertThat(noPrevious.statusCode()).isEqualTo(409);
        assertThat(noPrevious.body()).contains("NO_PREVIOUS_VERSION", "module 'single' has no previous version");

        for (String path : new String[] {"/actuator/wasi/nope/rollback", "/actuator/wasi/nope/validate",
                "/actuator/wasi/nope/reload", "/actuator/wasi/single/frobnicate"}) {
            HttpResponse<String> response = post(path, "{}");
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.body()).as(path).doesNotContain(modules.toString()).doesNotContain(".wasm");
        }
        HttpResponse<String> unknownDelete = send("DELETE", "/actuator/wasi/nope", null);
        assertThat(unknownDelete.statusCode()).isEqualTo(404);
        assertThat(unknownDelete.body()).contains("no module named 'nope'").doesNotContain(modules.toString());
    }

    @Test
    void deleteUnloadsTheModule() throws Exception {
        HttpResponse<String> deleted = send("DELETE", "/actuator/wasi/doomed", null);
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(deleted.body()).contains("\"result\":\"UNLOADED\"");
        assertThat(server.module("doomed")).isEmpty();
        assertThat(get("/actuator/wasi/doomed").statusCode()).isEqualTo(404);
        assertThat(Files.exists(modules.resolve("doomed.wasm"))).as("the file stays").isTrue();
        // its file is still there: a reload loads it again
        assertThat(post("/actuator/wasi/doomed", "{}").body()).contains("\"result\":\"RELOADED\"");
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send("GET", path, null);
    }
}
