package io.github.tinywasm.wasi.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.it.RedisServer;
import io.github.tinywasm.wasi.it.TestGuests;
import io.github.tinywasm.wasi.it.WebSocketClients;
import io.github.tinywasm.wasi.it.WebSocketClients.OffsetFrame;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Redis going away while nodes run: stopped and started again on the same port (its data lost), or every
 * connection dropped (its data kept). The nodes keep serving, the cluster's health says so without taking the
 * application down, what goes to the cluster waits in a bounded outbox, and every client still gets every number of
 * a numbered stream once, in order.
 */
class ClusterOutageTests {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private Nodes nodes;

    @BeforeAll
    static void pollOften() {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(Duration.ofMillis(20));
    }

    @AfterAll
    static void pollAsUsual() {
        Awaitility.reset();
    }

    @BeforeEach
    void cluster() throws Exception {
        redis.start();
        nodes = new Nodes(redis, dir);
    }

    @AfterEach
    void stopNodes() {
        nodes.close();
    }

    private static List<String> numbered(int count) {
        return IntStream.rangeClosed(1, count).mapToObj(i -> "n" + i).toList();
    }

    /** Publishes n1..n{count} to bus topic "in" of {@code node}, a steady stream, counting in {@code sent}. */
    private static Thread stream(Nodes.Node node, int count, AtomicInteger sent) {
        return stream(node, count, sent, Map.of());
    }

    /**
     * Publishes n1..n{count} to bus topic "in" of {@code node}, a steady stream, counting in {@code sent}; after number
     * N of {@code gates} it waits until that gate opens (so that the test, not the machine's speed, decides what is
     * published when).
     */
    private static Thread stream(Nodes.Node node, int count, AtomicInteger sent, Map<Integer, CountDownLatch> gates) {
        Thread t = new Thread(() -> {
            for (int i = 1; i <= count; i++) {
                node.publish("in", "n" + i);
                sent.set(i);
                CountDownLatch gate = gates.get(i);
                if (gate != null) {
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (i % 10 == 0) {
                    LockSupport.parkNanos(2_000_000);
                }
            }
        }, "test-stream");
        t.start();
        return t;
    }

    private JsonNode health(Nodes.Node node) throws Exception {
        return JSON.readTree(node.get("/actuator/health"));
    }

    @Test
    void aRedisRestartInTheMiddleOfANumberedStreamLosesAndRepeatsNothing() throws Exception {
        // a health group of its own where the outage counts (docs/operations.md): /actuator/health/cluster
        Nodes.Node a = nodes.start("a", Map.of("feed", TestGuests.broadcaster("in", "t", 2)),
                "management.endpoint.health.group.cluster.include=wasiCluster",
                "management.endpoint.health.group.cluster.status.order=DISCONNECTED,DOWN,OUT_OF_SERVICE,UP,UNKNOWN",
                "management.endpoint.health.group.cluster.status.http-mapping.DISCONNECTED=503");
        Nodes.Node b = nodes.start("b", Map.of());
        List<WebSocketClients.Reader> clients = List.of(nodes.reader(a, "t"), nodes.reader(b, "t"),
                nodes.offsetsReader(b, "t", null));
        int count = 3000;
        AtomicInteger sent = new AtomicInteger();
        CountDownLatch down = new CountDownLatch(1);
        CountDownLatch restarting = new CountDownLatch(1);
        // numbers up to 1000 go while Redis is up and while it stops; 1001 to 2000 while it is away; the rest while
        // it comes back and after
        Thread guest = stream(a, count, sent, Map.of(1000, down, 2000, restarting));
        await().atMost(Duration.ofSeconds(30)).until(() -> clients.get(1).size() >= 500);

        redis.stop(); // its data is gone with it
        await().atMost(Duration.ofSeconds(20)).until(() -> !a.cluster().connected() && !b.cluster().connected());
        // the node serves on; its cluster health says what happened, its application stays UP
        JsonNode health = health(a);
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(health.get("components").get("wasiCluster").get("status").asString()).isEqualTo("DISCONNECTED");
        assertThat(a.status("/actuator/health")).isEqualTo(200);
        assertThat(a.status("/actuator/health/cluster")).isEqualTo(503);
        assertThat(b.status("/actuator/health/cluster")).isEqualTo(404); // b has no such group
        down.countDown();
        await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() == 2000
                && a.cluster().state().outboxDepth() > 0); // the stream goes on into the outbox

        restarting.countDown();
        redis.start(); // same port, empty
        await().atMost(Duration.ofSeconds(30)).until(() -> a.cluster().connected() && b.cluster().connected());
        guest.join();
        for (WebSocketClients.Reader r : clients) {
            await().atMost(Duration.ofSeconds(60)).until(() -> r.size() >= count);
        }
        assertThat(clients.get(0).texts()).containsExactlyElementsOf(numbered(count));
        assertThat(clients.get(1).texts()).containsExactlyElementsOf(numbered(count));
        assertThat(clients.get(2).offsetFrames()).extracting(OffsetFrame::payload).containsExactlyElementsOf(numbered(count));
        assertThat(health(a).get("components").get("wasiCluster").get("status").asString()).isEqualTo("UP");
        assertThat(a.status("/actuator/health/cluster")).isEqualTo(200);
        assertThat(a.cluster().state().outboxDropped()).isZero();
    }

    @Test
    void droppedConnectionsResumeFromTheLastEntryIdWithoutLosingOrRepeating() throws Exception {
        Nodes.Node a = nodes.start("a", Map.of("feed", TestGuests.broadcaster("in", "t", 2)));
        Nodes.Node b = nodes.start("b", Map.of());
        WebSocketClients.Reader onA = nodes.reader(a, "t");
        WebSocketClients.Reader onB = nodes.offsetsReader(b, "t", null);
        int count = 2000;
        AtomicInteger sent = new AtomicInteger();
        Thread guest = stream(a, count, sent);
        for (int kill = 1; kill <= 3; kill++) {
            int at = kill * 400;
            await().atMost(Duration.ofSeconds(30)).until(() -> onB.size() >= at);
            killClients(); // Redis keeps its data: the nodes reconnect and read on from where they were
        }
        guest.join();
        await().atMost(Duration.ofSeconds(60)).until(() -> onA.size() >= count && onB.size() >= count);
        assertThat(onA.texts()).containsExactlyElementsOf(numbered(count));
        List<OffsetFrame> frames = onB.offsetFrames();
        assertThat(frames).extracting(OffsetFrame::payload).containsExactlyElementsOf(numbered(count));
        // one epoch throughout: the stream was never lost
        assertThat(frames.stream().map(f -> f.offset().substring(0, 8)).distinct()).hasSize(1);
        assertThat(a.cluster().state().lost()).isZero();
        assertThat(b.cluster().state().lost()).isZero();
    }

    /** Drops every client connection of the Redis server ({@code CLIENT KILL TYPE normal}), as a network failure does. */
    private static void killClients() throws Exception {
        try (Socket s = new Socket("127.0.0.1", redis.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("CLIENT KILL TYPE normal SKIPME yes\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.getInputStream().read(new byte[64]);
        }
    }

    @Test
    void whileRedisIsAwayTheOutboxIsBoundedAndWhatItDropsIsCounted() throws Exception {
        Nodes.Node a = nodes.start("a", Map.of("feed", TestGuests.broadcaster("in", "t", 2)),
                "tinywasm.wasi.cluster.outbox-capacity=50");
        WebSocketClients.Reader reader = nodes.reader(a, "t");
        a.publish("in", "before");
        await().atMost(Duration.ofSeconds(20)).until(() -> reader.size() == 1);
        redis.stop();
        await().atMost(Duration.ofSeconds(20)).until(() -> !a.cluster().connected());
        int count = 1000;
        numbered(count).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(30)).until(() -> a.server().module("feed").orElseThrow().counters().delivered() == count + 1);
        MeterRegistry meters = a.context().getBean(MeterRegistry.class);
        long dropped = (long) meters.get("wasi.cluster.outbox.dropped").functionCounter().count();
        assertThat(dropped).isPositive();
        assertThat(meters.get("wasi.cluster.outbox.depth").gauge().value()).isEqualTo(count - dropped);

        redis.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.size() == 1 + count - dropped
                && a.cluster().state().outboxDepth() == 0);
        List<String> got = reader.texts().subList(1, reader.size());
        // what waited went out in order, each once; what did not fit was dropped (and counted), nothing else
        List<String> expected = numbered(count).stream().filter(got::contains).toList();
        assertThat(got).containsExactlyElementsOf(expected).doesNotHaveDuplicates();
        assertThat(got).hasSize((int) (count - dropped));
        assertThat(got.get(0)).isEqualTo("n1");
    }
}
