package io.github.tinywasm.wasi.it.cluster;

import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.cluster.ClusterNode;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.github.tinywasm.wasi.it.RedisServer;
import io.github.tinywasm.wasi.it.WebSocketClients;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The nodes of one test: Spring applications ({@link ClusterApplication}) on random ports in this JVM, on one
 * Redis, with their own modules folders and a key prefix of their own (so that tests sharing a Redis never see each
 * other's streams), and the WebSocket clients the test opened. Closed after each test.
 */
final class Nodes implements AutoCloseable {

    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final RedisServer redis;
    private final Path dir;
    private final String prefix = "it" + CLUSTERS.incrementAndGet() + ":";
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<WebSocketClients.Reader> readers = new ArrayList<>();

    Nodes(RedisServer redis, Path dir) {
        this.redis = redis;
        this.dir = dir;
    }

    /** A node of this cluster with {@code modules} (name to .wasm bytes) and extra properties. */
    Node start(String id, Map<String, byte[]> modules, String... properties) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(id));
        for (Map.Entry<String, byte[]> m : modules.entrySet()) {
            Files.write(folder.resolve(m.getKey() + ".wasm"), m.getValue());
        }
        ConfigurableApplicationContext context = new SpringApplicationBuilder(ClusterApplication.class)
                .properties("server.port=0", "spring.data.redis.port=" + redis.port(), "spring.data.redis.host=127.0.0.1",
                        "tinywasm.wasi.modules-dir=" + folder, "tinywasm.wasi.watch=false",
                        "tinywasm.wasi.cluster.redis.enabled=true", "tinywasm.wasi.cluster.redis.key-prefix=" + prefix,
                        "tinywasm.wasi.cluster.node-id=" + id,
                        "management.endpoints.web.exposure.include=health,wasi,metrics",
                        "management.endpoint.health.show-details=always",
                        // the cluster reports its state itself (wasiCluster), without taking the application down
                        "management.health.redis.enabled=false")
                .properties(properties)
                .run();
        Node node = new Node(id, context);
        nodes.put(id, node);
        return node;
    }

    Node node(String id) {
        return nodes.get(id);
    }

    /** Stops one node, as a deployment does. */
    void stop(String id) {
        nodes.remove(id).context.close();
    }

    /** A raw client of {@code topic} on {@code node}; returns once it gets the topic's frames. */
    WebSocketClients.Reader reader(Node node, String topic) throws Exception {
        int before = node.fanOut().sessionCount();
        WebSocketClients.Reader reader = WebSocketClients.Reader.connect(node.port(), topic);
        readers.add(reader);
        await().atMost(Duration.ofSeconds(20)).until(() -> node.fanOut().sessionCount() > before && node.fanOut().live(topic));
        return reader;
    }

    /**
     * A client of the offsets format on {@code node}, resuming after {@code since} (or not); returns once it got its
     * notice: it is live.
     */
    WebSocketClients.Reader offsetsReader(Node node, String topic, String since) throws Exception {
        WebSocketClients.Reader reader = WebSocketClients.Reader.connectTo(node.port(),
                "/ws?topic=" + topic + (since != null ? "&since=" + since : ""), WebSocketClients.OFFSETS);
        readers.add(reader);
        await().atMost(Duration.ofSeconds(20)).until(() -> reader.notices().size() == 1);
        return reader;
    }

    @Override
    public void close() {
        for (WebSocketClients.Reader r : readers) {
            r.close();
        }
        for (Node n : new ArrayList<>(nodes.values())) {
            n.context.close();
        }
        nodes.clear();
    }

    /** One node: its context and what the tests use of it. */
    record Node(String id, ConfigurableApplicationContext context) {

        int port() {
            return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        }

        TopicFanOut fanOut() {
            return context.getBean(TopicFanOut.class);
        }

        ClusterNode cluster() {
            return context.getBean(ClusterNode.class);
        }

        WasiServer server() {
            return context.getBean(WasiServer.class);
        }

        void publish(String topic, String text) {
            context.getBean(WasiPublisher.class).publish(topic, text.getBytes(StandardCharsets.UTF_8));
        }

        /** GET on this node: the body. */
        String get(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port() + path)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }

        /** GET on this node: the status. */
        int status(String path) throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port() + path)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }
}
