package io.github.tinywasm.wasi.http;

import static io.github.tinywasm.wasi.http.HttpGuests.get;
import static io.github.tinywasm.wasi.http.HttpGuests.request;
import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.types.Import;
import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The guest SDKs' HTTP support with real guests: Rust ({@code guests/rust/tinywasm}, {@code guest!(T, http)}) through
 * the sample's {@code notes} module, a JSON API written without {@code unsafe}; AssemblyScript
 * ({@code guests/assemblyscript/assembly/tinywasm.ts}) through {@code hello.ts}. And the opt-in: a guest that does not
 * use HTTP imports none of it, in C, Rust and AssemblyScript alike.
 */
class SdkHttpGuestsTest {

    private static GuestHttpResponse send(WasiServer server, GuestHttpRequest request) throws Exception {
        return server.http().dispatch("notes", request).get(30, TimeUnit.SECONDS);
    }

    private static GuestHttpRequest post(String text) {
        return request("POST", "/m/notes", List.of(new Header("Content-Type", "text/plain")),
                text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theNotesModuleServesAJsonApiWithState() throws Exception {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("notes", Guests.built("notes"));
            assertThat(server.module("notes").orElseThrow().http().mode()).isEqualTo(HttpMode.EXTENDED);
            GuestHttpResponse empty = send(server, get("/m/notes"));
            assertThat(empty.status()).isEqualTo(200);
            assertThat(empty.header("Content-Type")).isEqualTo("application/json");
            assertThat(empty.bodyAsString()).isEqualTo("{\"notes\":[],\"count\":0}");

            GuestHttpResponse added = send(server, post("  buy <milk> & \"eggs\"\n"));
            assertThat(added.status()).isEqualTo(201);
            assertThat(added.bodyAsString()).isEqualTo("{\"id\":1,\"text\":\"buy \\u003cmilk\\u003e \\u0026 \\\"eggs\\\"\"}");
            send(server, post("caf\u00e9"));
            assertThat(send(server, get("/m/notes")).bodyAsString()).contains("\"count\":2").contains("caf\u00e9");
            assertThat(send(server, get("/m/notes/2")).bodyAsString()).isEqualTo("{\"id\":2,\"text\":\"caf\u00e9\"}");

            assertThat(send(server, request("DELETE", "/m/notes/1", List.of(), null)).status()).isEqualTo(204);
            assertThat(send(server, request("DELETE", "/m/notes/1", List.of(), null)).status()).isEqualTo(404);
            assertThat(send(server, get("/m/notes/x")).status()).isEqualTo(404);
            assertThat(send(server, post("")).status()).isEqualTo(400);
            assertThat(send(server, post("x".repeat(281))).status()).isEqualTo(400);
            GuestHttpResponse put = send(server, request("PUT", "/m/notes", List.of(), null));
            assertThat(put.status()).isEqualTo(405);
            assertThat(put.header("Allow")).isEqualTo("GET, POST, DELETE");
            assertThat(send(server, get("/m/notes")).bodyAsString()).isEqualTo("{\"notes\":[{\"id\":2,\"text\":\"caf\u00e9\"}],\"count\":1}");
        }
    }

    private static List<String> exports(com.dylibso.chicory.wasm.WasmModule module) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < module.exportSection().exportCount(); i++) {
            names.add(module.exportSection().getExport(i).name());
        }
        return names;
    }

    @Test
    void theAssemblyScriptWrapperReadsTheRequestAndWritesTheResponse() throws Exception {
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("hello", Guests.built("hello"));
            GuestHttpResponse hello = server.http().dispatch("hello", request("GET", "/m/hello/x?y=1",
                    List.of(new Header("X-User", "ana")), null)).get(30, TimeUnit.SECONDS);
            assertThat(hello.status()).isEqualTo(200);
            assertThat(hello.header("Content-Type")).isEqualTo("text/plain;charset=UTF-8");
            assertThat(hello.bodyAsString()).isEqualTo("hello ana: GET /m/hello/x?y=1");
            byte[] body = new byte[100_000];
            new java.util.Random(3).nextBytes(body);
            GuestHttpResponse echo = server.http().dispatch("hello", request("POST", "/m/hello", List.of(), body))
                    .get(30, TimeUnit.SECONDS);
            assertThat(echo.status()).isEqualTo(201);
            assertThat(echo.body()).isEqualTo(body);
        }
    }

    @Test
    void aGuestThatDoesNotUseHttpImportsAndExportsNoneOfIt() {
        for (String guest : List.of("stats", "probe", "chat", "users", "logger", "shout")) {
            var parsed = Parser.parse(Guests.built(guest));
            List<String> imports = new ArrayList<>();
            for (int i = 0; i < parsed.importSection().importCount(); i++) {
                Import imp = parsed.importSection().getImport(i);
                imports.add(imp.module() + "." + imp.name());
            }
            assertThat(imports).as(guest).noneMatch(name -> name.startsWith("env.http_"));
            assertThat(exports(parsed)).as(guest).doesNotContain("handle_http");
        }
        assertThat(exports(Parser.parse(Guests.built("notes")))).contains("handle_http");
        assertThat(exports(Parser.parse(Guests.built("hello")))).contains("handle_http");
    }
}
