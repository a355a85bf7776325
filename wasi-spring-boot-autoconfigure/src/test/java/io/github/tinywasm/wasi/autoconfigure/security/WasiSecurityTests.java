package io.github.tinywasm.wasi.autoconfigure.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.security.test.web.servlet.request.SecurityMockMvcRequestPostProcessors.csrf;
import static org.springframework.security.test.web.servlet.request.SecurityMockMvcRequestPostProcessors.user;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.security.test.web.servlet.setup.SecurityMockMvcConfigurers;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;

/**
 * The documented Spring Security set-up against a real servlet server: the endpoint through MockMvc with Spring
 * Security's test support (roles, CSRF on the reload), {@code /ws} through real WebSocket handshakes with HTTP
 * basic credentials, topics decided by a {@link TopicAuthorizationManager}.
 */
@SpringBootTest(classes = SecuredApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "management.endpoints.web.exposure.include=health,wasi")
class WasiSecurityTests {

    static Path modules;

    @DynamicPropertySource
    static void modules(DynamicPropertyRegistry registry) throws IOException {
        modules = Files.createTempDirectory("wasi-security");
        Files.write(modules.resolve("relay.wasm"), Guests.relay("in", "out"));
        registry.add("tinywasm.wasi.modules-dir", modules::toString);
    }

    @LocalServerPort
    int port;

    @Autowired
    WebApplicationContext context;

    @Autowired
    TopicAccessPolicy policy;

    MockMvc mvc;

    @BeforeEach
    void mockMvc() {
        mvc = MockMvcBuilders.webAppContextSetup(context).apply(SecurityMockMvcConfigurers.springSecurity()).build();
    }

    @Test
    void theAuthorizationManagerBackedPolicyIsInstalled() {
        assertThat(policy).isInstanceOf(AuthorizationManagerTopicAccessPolicy.class);
    }

    @Test
    void theEndpointNeedsTheAdminRoleAndItsReloadNeedsTheCsrfToken() throws Exception {
        mvc.perform(get("/actuator/wasi")).andExpect(status().isUnauthorized());
        mvc.perform(get("/actuator/wasi").with(user("user").roles("USER"))).andExpect(status().isForbidden());
        mvc.perform(get("/actuator/wasi").with(user("admin").roles("ADMIN"))).andExpect(status().isOk());
        mvc.perform(get("/actuator/health")).andExpect(status().isOk());

        mvc.perform(post("/actuator/wasi/relay").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("admin").roles("ADMIN"))).andExpect(status().isForbidden()); // no CSRF token
        mvc.perform(post("/actuator/wasi/relay").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("user").roles("USER")).with(csrf())).andExpect(status().isForbidden());
        mvc.perform(post("/actuator/wasi/relay").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("admin").roles("ADMIN")).with(csrf())).andExpect(status().isOk());
    }

    @Test
    void theDeployOperationsNeedTheAdminRoleAndTheCsrfToken() throws Exception {
        // over real HTTP with the admin's credentials but no CSRF token: refused, whatever the operation
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        String basic = "Basic " + Base64.getEncoder().encodeToString("admin:admin-pw".getBytes(StandardCharsets.UTF_8));
        for (String[] op : new String[][] {{"POST", "/actuator/wasi/relay/rollback"}, {"POST", "/actuator/wasi/relay/reload"},
                {"POST", "/actuator/wasi/relay/validate"}, {"DELETE", "/actuator/wasi/relay"}}) {
            java.net.http.HttpResponse<String> response = client.send(java.net.http.HttpRequest
                    .newBuilder(java.net.URI.create("http://localhost:" + port + op[1])).header("Authorization", basic)
                    .header("Content-Type", "application/json")
                    .method(op[0], java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            // the CSRF filter refuses it (403); its error page then answers 401 to this session-less client
            assertThat(response.statusCode()).as(op[0] + " " + op[1]).isIn(401, 403);
        }
        io.github.tinywasm.wasi.WasiServer server = context.getBean(io.github.tinywasm.wasi.WasiServer.class);
        assertThat(server.module("relay")).as("the DELETE did not happen").isPresent();
        assertThat(server.module("relay").orElseThrow().counters().swaps()).as("the reload did not happen").isZero();

        mvc.perform(post("/actuator/wasi/relay/validate").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("user").roles("USER")).with(csrf())).andExpect(status().isForbidden());
        mvc.perform(post("/actuator/wasi/relay/validate").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("admin").roles("ADMIN")).with(csrf())).andExpect(status().isOk());
        mvc.perform(post("/actuator/wasi/relay/rollback").contentType(MediaType.APPLICATION_JSON).content("{}")
                .with(user("admin").roles("ADMIN")).with(csrf())).andExpect(status().isConflict()); // no previous version
        mvc.perform(post("/actuator/wasi/relay/reload").contentType(MediaType.APPLICATION_JSON).content("{\"force\":true}")
                .with(user("admin").roles("ADMIN")).with(csrf())).andExpect(status().isOk());
    }

    @Test
    void webSocketHandshakesAreAuthenticatedAndTopicsAuthorised() throws Exception {
        assertThat(handshake("public.news", null)).startsWith("HTTP/1.1 401");
        assertThat(handshake("public.news", "user:wrong")).startsWith("HTTP/1.1 401");
        assertThat(handshake("public.news", "user:user-pw")).startsWith("HTTP/1.1 101");
        assertThat(handshake("orders", "user:user-pw")).startsWith("HTTP/1.1 101");
        assertThat(handshake("admin.ops", "user:user-pw")).startsWith("HTTP/1.1 403");
        assertThat(handshake("admin.ops", "admin:admin-pw")).startsWith("HTTP/1.1 101");
        assertThat(handshake("admin.ops.deep", "admin:admin-pw")).startsWith("HTTP/1.1 101"); // "*" is one segment: anyTopic
    }

    /** A real WebSocket upgrade request; returns the status line. */
    private String handshake(String topic, @Nullable String credentials) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            StringBuilder request = new StringBuilder()
                    .append("GET /ws?topic=").append(topic).append(" HTTP/1.1\r\n")
                    .append("Host: localhost:").append(port).append("\r\n")
                    .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                    .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
            if (credentials != null) {
                request.append("Authorization: Basic ")
                        .append(Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8))).append("\r\n");
            }
            request.append("\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }
}
