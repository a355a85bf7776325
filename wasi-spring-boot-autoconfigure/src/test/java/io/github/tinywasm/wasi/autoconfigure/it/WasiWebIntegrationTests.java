package io.github.tinywasm.wasi.autoconfigure.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiOutboundMessage;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.socket.WebSocketSession;

/** A real application on a real port, with real guests, real WebSocket clients and real HTTP. */
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "tinywasm.wasi.watch-quiet-period=100ms",
        "tinywasm.wasi.watch-poll-interval=500ms",
        "management.endpoints.web.exposure.include=health,wasi,metrics",
        "management.endpoint.health.show-details=always"})
class WasiWebIntegrationTests {

    static Path modules;

    @DynamicPropertySource
    static void modules(DynamicPropertyRegistry registry) throws IOException {
        modules = Files.createTempDirectory("wasi-it");
        Files.write(modules.resolve("feed.wasm"), broadcaster("a-in", "a", "a-out"));
        Files.write(modules.resolve("other.wasm"), broadcaster("b-in", "b", "b-out"));
        Files.write(modules.resolve("swappy.wasm"), broadcaster("s-in", "s", "s-out"));
        registry.add("tinywasm.wasi.modules-dir", modules::toString);
    }

    /** Subscribes to {@code in}; broadcasts each payload to WebSocket topic {@code ws} and publishes it on {@code out}. */
    static byte[] broadcaster(String in, String ws, String out) {
        return Guests.wat(Guests.relayWat(in, out, """
                  (data (i32.const 800) "%s")
                """.formatted(ws)).replace("""
                    (call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l)))""".formatted(out.length()),
                """
                    (call $ws_broadcast (i32.const 800) (i32.const %d) (local.get $p) (local.get $l))
                    (call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l)))""".formatted(ws.length(), out.length())));
    }

    @LocalServerPort
    int port;

    @Autowired
    WasiServer server;

    @Autowired
    WasiPublisher publisher;

    @Autowired
    TopicFanOut fanOut;

    @Autowired
    ApplicationEventPublisher events;

    @Autowired
    TestApplication.EventRecorder recorder;

    @Autowired
    MeterRegistry meters;

    private final HttpClient http = HttpClient.newHttpClient();

    private WebSocketSession connect(String topic, WebSocketClients.Frames frames) throws Exception {
        int before = fanOut.sessionCount();
        WebSocketSession session = WebSocketClients.connect(port, topic, frames);
        // the client's future completes on the 101 response, before the server registers the session
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.sessionCount() >= before + 1);
        return session;
    }

    @Test
    void eventListenersReceiveGuestMessagesAndNothingEchoes() {
        publisher.publish("a-in", "to-guest");
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.aOut.stream().anyMatch(e -> e.getPayloadAsString().equals("to-guest")));
        assertThat(recorder.aOut).allSatisfy(e -> {
            assertThat(e.getTopic()).isEqualTo("a-out");
            assertThat(e.getModule()).isEqualTo("feed");
        });
        // what the application published never comes back as an event
        assertThat(recorder.all).noneMatch(e -> e.getTopic().equals("a-in"));

        events.publishEvent(WasiOutboundMessage.of("a-in", "via-event"));
        await().atMost(Duration.ofSeconds(10)).until(() -> recorder.aOut.stream().anyMatch(e -> e.getPayloadAsString().equals("via-event")));
        assertThat(recorder.all).noneMatch(e -> e.getTopic().equals("a-in"));
    }

    @Test
    void hotSwapWhileAClientIsConnected() throws Exception {
        WebSocketClients.Frames s = new WebSocketClients.Frames();
        try (WebSocketSession session = connect("s", s)) {
            publisher.publish("s-in", "from v1");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.size() == 1);

            long swaps = server.module("swappy").orElseThrow().counters().swaps();
            Path tmp = modules.resolve(".swappy.wasm.tmp");
            Files.write(tmp, broadcaster("s-in", "s", "s-out-v2"));
            Files.move(tmp, modules.resolve("swappy.wasm"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(15)).until(() -> server.module("swappy").orElseThrow().counters().swaps() == swaps + 1);

            publisher.publish("s-in", "from v2");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.size() == 2);
            assertThat(s.texts()).containsExactly("from v1", "from v2");
            assertThat(session.isOpen()).isTrue();
            assertThat(s.closeStatus).isNull();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void actuatorEndpointAndHealthOverHttp() throws Exception {
        HttpResponse<String> list = get("/actuator/wasi");
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains("\"modules\":{", "\"feed\":{\"name\":\"feed\"", "\"state\":\"SERVING\"",
                "\"topics\":[\"a-in\"]", "\"sha256\":\"", "\"mailboxDepth\":", "\"delivered\":",
                "\"dropped\":{\"mailboxFull\":0,\"unsubscribed\":0,\"noAllocator\":0,\"closed\":0,\"noMemory\":0,\"noHandler\":0,\"quarantined\":0}")
                .doesNotContain("mailbox-full");

        HttpResponse<String> one = get("/actuator/wasi/other");
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(one.body()).contains("\"name\":\"other\"", "\"file\":\"" + modules.resolve("other.wasm"));
        assertThat(get("/actuator/wasi/nosuchmodule").statusCode()).isEqualTo(404);
        HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/wasi/nosuchmodule"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("no module named 'nosuchmodule'").doesNotContain(modules.toString()).doesNotContain(".wasm");

        HttpResponse<String> unchanged = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/wasi/other"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unchanged.statusCode()).isEqualTo(200);
        assertThat(unchanged.body()).contains("\"name\":\"other\"", "\"result\":\"UNCHANGED\"", "\"swaps\":0");
        HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/wasi/other"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"force\":true}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).isEqualTo(200);
        assertThat(reload.body()).contains("\"name\":\"other\"", "\"result\":\"RELOADED\"", "\"swaps\":1");

        HttpResponse<String> health = get("/actuator/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"wasi\":{").contains("\"feed\":{\"state\":\"SERVING\"");
    }

    @Test
    void reloadOfABrokenFileReports422AndTheOldVersionServes() throws Exception {
        Files.write(modules.resolve("fragile.wasm"), broadcaster("f-in", "f", "f-out"));
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("fragile").isPresent());
        Files.writeString(modules.resolve("fragile.wasm"), "not wasm");
        HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/wasi/fragile"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).isEqualTo(422);
        assertThat(reload.body()).contains("not a valid WebAssembly module");
        HttpResponse<String> health = get("/actuator/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"fragile\":{\"state\":\"SERVING\"", "\"lastLoadFailed\":true");
        Files.delete(modules.resolve("fragile.wasm"));
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("fragile").isEmpty());

        // a file that never loads: shown in the health details, the application stays UP
        Files.writeString(modules.resolve("bad.wasm"), "this is text, not wasm");
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("bad").isPresent());
        HttpResponse<String> withBad = get("/actuator/health");
        assertThat(withBad.statusCode()).isEqualTo(200);
        assertThat(withBad.body()).contains("\"status\":\"UP\"", "\"bad\":{\"state\":\"FAILED\"", "\"failedModules\":1");
        Files.delete(modules.resolve("bad.wasm"));
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("bad").isEmpty());
    }

    @Test
    void metricsAreRegisteredWithTheDocumentedNames() {
        publisher.publish("b-in", "count me");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("other").orElseThrow().counters().delivered() >= 1);
        assertThat(meters.get("wasi.messages.delivered").tag("module", "other").functionCounter().count()).isGreaterThanOrEqualTo(1);
        assertThat(meters.get("wasi.messages.published").tag("module", "other").functionCounter().count()).isGreaterThanOrEqualTo(1);
        assertThat(meters.get("wasi.messages.dropped").tag("module", "other").tag("reason", "mailbox-full").functionCounter()).isNotNull();
        assertThat(meters.get("wasi.guest.traps").tag("module", "other").functionCounter()).isNotNull();
        assertThat(meters.get("wasi.guest.calls").tag("module", "other").functionTimer().count()).isGreaterThanOrEqualTo(1);
        assertThat(meters.get("wasi.mailbox.depth").tag("module", "other").gauge()).isNotNull();
        assertThat(meters.get("wasi.module.loads").tag("module", "other").tag("outcome", "success").timer().count())
                .isEqualTo(1);
        assertThat(meters.find("wasi.module.swaps").tag("module", "other").timer()).isNull(); // a first load is no swap
        assertThat(meters.get("wasi.module.memory").tag("module", "other").gauge().getId().getBaseUnit()).isEqualTo("bytes");
        assertThat(meters.get("wasi.websocket.sessions").gauge()).isNotNull();
        assertThat(meters.get("wasi.websocket.frames.sent").functionCounter()).isNotNull();
        assertThat(meters.get("wasi.websocket.frames.dropped").functionCounter()).isNotNull();
        assertThat(meters.getMeters()).noneMatch(m -> m.getId().getTag("topic") != null);
    }
}
