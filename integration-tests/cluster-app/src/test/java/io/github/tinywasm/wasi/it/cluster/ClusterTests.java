package io.github.tinywasm.wasi.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.it.RedisServer;
import io.github.tinywasm.wasi.it.TestGuests;
import io.github.tinywasm.wasi.it.WebSocketClients;
import io.github.tinywasm.wasi.it.WebSocketClients.OffsetFrame;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several nodes of a real application on one real Redis, with real guests and real WebSocket clients: broadcasts
 * cross nodes once each, in one order per topic; clients resume with {@code since} on any node; a trimmed history
 * resets; bus topics cross nodes into guests and Java subscribers; the endpoint, health and meters show the cluster.
 */
class ClusterTests {

    @RegisterExtension
    static final RedisServer redis = new RedisServer();

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
    void cluster() {
        nodes = new Nodes(redis, dir);
    }

    @AfterEach
    void stopNodes() {
        nodes.close();
    }

    /** A guest broadcasting every payload of bus topic {@code in} to WebSocket topic {@code ws}. */
    private static Map<String, byte[]> feed(String name, String in, String ws) {
        return Map.of(name, TestGuests.broadcaster(in, ws, 2));
    }

    private static List<String> numbered(String prefix, int count) {
        return IntStream.rangeClosed(1, count).mapToObj(i -> prefix + i).toList();
    }

    @Test
    void broadcastsOfEveryNodeReachEveryClientOnceInOneOrderPerTopic() throws Exception {
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"));
        Nodes.Node b = nodes.start("b", feed("feed", "in", "t"));
        Nodes.Node c = nodes.start("c", Map.of());
        List<WebSocketClients.Reader> clients = new ArrayList<>();
        for (Nodes.Node n : List.of(a, b, c)) {
            clients.add(nodes.offsetsReader(n, "t", null));
            clients.add(nodes.reader(n, "t"));
        }
        int count = 2000;
        // guests on two nodes broadcast to one topic at once
        Thread fromB = new Thread(() -> numbered("b", count).forEach(p -> b.publish("in", p)));
        fromB.start();
        numbered("a", count).forEach(p -> a.publish("in", p));
        fromB.join();

        await().atMost(Duration.ofSeconds(60)).until(() -> clients.stream().allMatch(r -> r.size() == 2 * count));
        List<OffsetFrame> order = clients.get(0).offsetFrames();
        for (int i = 0; i < clients.size(); i++) {
            WebSocketClients.Reader r = clients.get(i);
            List<String> payloads = i % 2 == 0 ? r.offsetFrames().stream().map(OffsetFrame::payload).toList() : r.texts();
            // every number of each node once, in that node's order
            assertThat(payloads.stream().filter(p -> p.startsWith("a")).toList()).containsExactlyElementsOf(numbered("a", count));
            assertThat(payloads.stream().filter(p -> p.startsWith("b")).toList()).containsExactlyElementsOf(numbered("b", count));
            // and the same interleaving on every node: one order per topic
            assertThat(payloads).containsExactlyElementsOf(order.stream().map(OffsetFrame::payload).toList());
            if (i % 2 == 0) {
                assertThat(r.offsetFrames()).containsExactlyElementsOf(order);
            }
        }
        // a node's own broadcasts came back through the stream, with the stream's offsets
        assertThat(order.get(0).offset()).matches("[a-z0-9]{8}:\\d+-\\d+");
        assertThat(a.cluster().state().publishedFrames() + b.cluster().state().publishedFrames()).isEqualTo(2L * count);
        assertThat(c.cluster().state().readFrames()).isEqualTo(2L * count);
    }

    @Test
    void clientsResumeWithSinceOnTheirNodeAndOnAnother() throws Exception {
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"));
        Nodes.Node b = nodes.start("b", Map.of());
        WebSocketClients.Reader first = nodes.offsetsReader(a, "t", null);
        WebSocketClients.Reader stays = nodes.reader(a, "t");
        numbered("n", 10).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(20)).until(() -> first.size() == 10);
        String fifth = first.offsetFrames().get(4).offset(); // it saw ten, but its page kept only five
        first.close();
        numbered("m", 5).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(20)).until(() -> stays.size() == 15);

        WebSocketClients.Reader sameNode = nodes.offsetsReader(a, "t", fifth);
        WebSocketClients.Reader otherNode = nodes.offsetsReader(b, "t", fifth); // b did not follow "t" before
        a.publish("in", "live");
        List<String> expected = new ArrayList<>(numbered("n", 10).subList(5, 10));
        expected.addAll(numbered("m", 5));
        expected.add("live");
        for (WebSocketClients.Reader r : List.of(sameNode, otherNode)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> r.size() == expected.size());
            assertThat(r.offsetFrames()).extracting(OffsetFrame::payload).containsExactlyElementsOf(expected);
            assertThat(r.notices().get(0)).contains("\"type\":\"live\"").contains("\"replayed\":10");
        }
        assertThat(sameNode.offsetFrames()).isEqualTo(otherNode.offsetFrames());
        assertThat(b.fanOut().stats().replaysRecovered()).isEqualTo(1);
    }

    @Test
    void anOffsetTheHistoryNoLongerHoldsGetsAResetOnEveryNode() throws Exception {
        String[] history = {"tinywasm.wasi.websocket.history.size=5"};
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"), history);
        Nodes.Node b = nodes.start("b", Map.of(), history);
        WebSocketClients.Reader first = nodes.offsetsReader(a, "t", null);
        a.publish("in", "1");
        await().atMost(Duration.ofSeconds(20)).until(() -> first.size() == 1);
        String old = first.offsetFrames().get(0).offset();
        numbered("x", 10).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(20)).until(() -> first.size() == 11);
        String epoch = old.substring(0, old.indexOf(':'));

        WebSocketClients.Reader onA = nodes.offsetsReader(a, "t", old);
        WebSocketClients.Reader onB = nodes.offsetsReader(b, "t", old); // b loads the topic's latest five from Redis
        WebSocketClients.Reader otherEpoch = nodes.offsetsReader(b, "t", "zzzzzzzz:1-0");
        WebSocketClients.Reader recent = nodes.offsetsReader(b, "t", first.offsetFrames().get(6).offset());
        for (WebSocketClients.Reader r : List.of(onA, onB)) {
            assertThat(r.notices().get(0)).contains("\"type\":\"reset\"").contains("\"reason\":\"out-of-history\"")
                    .contains("\"offset\":\"" + first.offsetFrames().get(10).offset() + "\"");
            assertThat(r.size()).isZero();
        }
        assertThat(otherEpoch.notices().get(0)).contains("\"reason\":\"other-epoch\"");
        assertThat(recent.offsetFrames()).extracting(OffsetFrame::payload).containsExactly("x7", "x8", "x9", "x10");
        a.publish("in", "after");
        for (WebSocketClients.Reader r : List.of(onA, onB, otherEpoch)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> r.size() == 1);
            assertThat(r.offsetFrames().get(0).payload()).isEqualTo("after");
            assertThat(r.offsetFrames().get(0).offset()).startsWith(epoch + ":");
        }
    }

    @Test
    void anOffsetExactlyAtTheHistorysFloorResumesOnEveryNodeAndOneBeforeItOrAMalformedOneResets() throws Exception {
        String[] history = {"tinywasm.wasi.websocket.history.size=5"};
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"), history);
        Nodes.Node b = nodes.start("b", Map.of(), history);
        WebSocketClients.Reader first = nodes.offsetsReader(a, "t", null);
        numbered("x", 10).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(20)).until(() -> first.size() == 10);
        // a (live all along) and b (loading the stream's latest) both keep x6..x10: x5 is the floor
        String floor = first.offsetFrames().get(4).offset();
        String beforeFloor = first.offsetFrames().get(3).offset();
        List<WebSocketClients.Reader> resumed = new ArrayList<>();
        for (Nodes.Node n : List.of(a, b)) {
            WebSocketClients.Reader atFloor = nodes.offsetsReader(n, "t", floor);
            assertThat(atFloor.notices().get(0)).as(n.id()).contains("\"type\":\"live\"");
            await().atMost(Duration.ofSeconds(20)).until(() -> atFloor.size() == 5);
            assertThat(atFloor.offsetFrames()).extracting(OffsetFrame::payload).containsExactly("x6", "x7", "x8", "x9", "x10");
            WebSocketClients.Reader older = nodes.offsetsReader(n, "t", beforeFloor);
            assertThat(older.notices().get(0)).as(n.id()).contains("\"reason\":\"out-of-history\"");
            WebSocketClients.Reader malformed = nodes.offsetsReader(n, "t", "not-an-offset");
            assertThat(malformed.notices().get(0)).as(n.id()).contains("\"reason\":\"invalid\"");
            resumed.addAll(List.of(atFloor, older, malformed));
        }
        a.publish("in", "after");
        for (WebSocketClients.Reader r : resumed) {
            await().atMost(Duration.ofSeconds(20)).until(() -> r.offsetFrames().stream().anyMatch(f -> f.payload().equals("after")));
            assertThat(r.offsetFrames()).extracting(OffsetFrame::payload).doesNotHaveDuplicates().endsWith("after");
        }
    }

    @Test
    void busTopicsCrossNodesIntoGuestsAndJavaSubscribersOnceInEachPublishersOrder() throws Exception {
        String topics = "tinywasm.wasi.cluster.topics=orders.*";
        Nodes.Node a = nodes.start("a", Map.of("watcher", TestGuests.relay("orders.new", "seen")), topics);
        Nodes.Node b = nodes.start("b", Map.of("watcher", TestGuests.relay("orders.new", "seen"),
                "maker", TestGuests.relay("make", "orders.new")), topics);
        Map<String, List<Message>> orders = Map.of("a", new CopyOnWriteArrayList<>(), "b", new CopyOnWriteArrayList<>());
        Map<String, List<Message>> seen = Map.of("a", new CopyOnWriteArrayList<>(), "b", new CopyOnWriteArrayList<>());
        Map<String, List<Message>> other = Map.of("a", new CopyOnWriteArrayList<>(), "b", new CopyOnWriteArrayList<>());
        for (Nodes.Node n : List.of(a, b)) {
            n.server().subscribe("orders.new", orders.get(n.id())::add);
            n.server().subscribe("seen", seen.get(n.id())::add);
            n.server().subscribe("orders.new.eu", other.get(n.id())::add);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.cluster().state().bus() != null
                && a.cluster().state().bus().lastId() != null && b.cluster().state().bus() != null
                && b.cluster().state().bus().lastId() != null);

        int count = 300;
        Thread fromB = new Thread(() -> numbered("b", count).forEach(p -> b.publish("make", p))); // a guest publishes on b
        fromB.start();
        a.publish("orders.new.eu", "not a match: stays on a");
        numbered("a", count).forEach(p -> a.publish("orders.new", p)); // the application publishes on a
        fromB.join();
        a.publish("orders.new", "last");

        Function<List<Message>, List<String>> texts = l -> l.stream().map(Message::payloadAsString).toList();
        for (String node : List.of("a", "b")) {
            for (List<Message> got : List.of(orders.get(node), seen.get(node))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> got.size() == 2 * count + 1);
                List<String> payloads = texts.apply(got);
                List<String> fromA = new ArrayList<>(numbered("a", count));
                fromA.add("last"); // a's, after its others (b's may still come after it)
                assertThat(payloads.stream().filter(p -> p.startsWith("a") || p.equals("last")).toList())
                        .containsExactlyElementsOf(fromA);
                assertThat(payloads.stream().filter(p -> p.startsWith("b")).toList()).containsExactlyElementsOf(numbered("b", count));
            }
        }
        // what came from the other node says so; what was published here does not
        Message fromA = orders.get("b").stream().filter(m -> m.payloadAsString().equals("a1")).findFirst().orElseThrow();
        assertThat(fromA.header("tinywasm-cluster-origin")).isEqualTo("a");
        Message fromMaker = orders.get("a").stream().filter(m -> m.payloadAsString().equals("b1")).findFirst().orElseThrow();
        assertThat(fromMaker.header("tinywasm-cluster-origin")).isEqualTo("b");
        assertThat(fromMaker.header("tinywasm-cluster-module")).isEqualTo("maker");
        assertThat(orders.get("a").stream().filter(m -> m.payloadAsString().equals("a1")).findFirst().orElseThrow()
                .header("tinywasm-cluster-origin")).isNull();
        // a topic no pattern matches stays on its node ("last" went after it, and arrived)
        assertThat(other.get("a")).hasSize(1);
        assertThat(other.get("b")).isEmpty();
        assertThat(a.cluster().state().publishedMessages()).isEqualTo(count + 1);
        assertThat(b.cluster().state().readMessages()).isEqualTo(count + 1);
    }

    @Test
    void theEndpointTheHealthAndTheMetersShowTheCluster() throws Exception {
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"), "tinywasm.wasi.cluster.topics=orders.>");
        WebSocketClients.Reader reader = nodes.reader(a, "t");
        numbered("n", 20).forEach(p -> a.publish("in", p));
        await().atMost(Duration.ofSeconds(20)).until(() -> reader.size() == 20);
        await().atMost(Duration.ofSeconds(20)).until(() -> a.cluster().state().topics().get("t").lagMs() != null);

        tools.jackson.databind.JsonNode wasi = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(a.get("/actuator/wasi"));
        tools.jackson.databind.JsonNode cluster = wasi.get("cluster");
        assertThat(cluster.get("nodeId").asString()).isEqualTo("a");
        assertThat(cluster.get("connected").asBoolean()).isTrue();
        assertThat(cluster.get("outboxDepth").asInt()).isZero();
        assertThat(cluster.get("outboxCapacity").asInt()).isEqualTo(10000);
        assertThat(cluster.get("publishedFrames").asLong()).isEqualTo(20);
        assertThat(cluster.get("busTopics").get(0).asString()).isEqualTo("orders.>");
        tools.jackson.databind.JsonNode t = cluster.get("topics").get("t");
        assertThat(t.get("stream").asString()).endsWith("ws:t");
        assertThat(t.get("lastId").asString()).matches("\\d+-\\d+");
        assertThat(t.get("lagMs").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(cluster.get("bus").get("stream").asString()).endsWith("bus");

        tools.jackson.databind.JsonNode health = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(a.get("/actuator/health"));
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(health.get("components").get("wasiCluster").get("status").asString()).isEqualTo("UP");
        assertThat(health.get("components").get("wasiCluster").get("details").get("nodeId").asString()).isEqualTo("a");

        MeterRegistry meters = a.context().getBean(MeterRegistry.class);
        assertThat(meters.get("wasi.cluster.published").tag("kind", "websocket").functionCounter().count()).isEqualTo(20);
        assertThat(meters.get("wasi.cluster.read").tag("kind", "websocket").functionCounter().count()).isEqualTo(20);
        assertThat(meters.get("wasi.cluster.connected").gauge().value()).isEqualTo(1);
        assertThat(meters.get("wasi.cluster.outbox.depth").gauge().value()).isZero();
        assertThat(meters.get("wasi.cluster.outbox.dropped").functionCounter().count()).isZero();
        assertThat(meters.get("wasi.cluster.lag").gauge().value()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void aNodeStoppingLetsTheOthersGoOnAndItsClientsResumeOnAnother() throws Exception {
        // a history that holds the whole stream: the client resumes however far b got meanwhile
        String history = "tinywasm.wasi.websocket.history.size=2000";
        Nodes.Node a = nodes.start("a", feed("feed", "in", "t"), history);
        Nodes.Node b = nodes.start("b", Map.of(), history);
        Nodes.Node c = nodes.start("c", Map.of(), history);
        WebSocketClients.Reader onB = nodes.offsetsReader(b, "t", null);
        WebSocketClients.Reader onC = nodes.offsetsReader(c, "t", null);
        int count = 1500;
        Thread guest = new Thread(() -> {
            for (int i = 1; i <= count; i++) {
                a.publish("in", "n" + i);
                if (i % 10 == 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a steady stream, not one burst
                }
            }
        });
        guest.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> onC.size() >= 300);
        nodes.stop("c"); // its clients are told to go away (1001), the others go on
        await().atMost(Duration.ofSeconds(20)).until(onC::ended);
        assertThat(onC.closeCode).isEqualTo(1001);
        List<OffsetFrame> beforeStop = onC.offsetFrames();
        WebSocketClients.Reader resumed = nodes.offsetsReader(b, "t", beforeStop.get(beforeStop.size() - 1).offset());
        assertThat(resumed.notices().get(0)).contains("\"type\":\"live\"");
        guest.join();
        await().atMost(Duration.ofSeconds(60)).until(() -> onB.size() == count
                && beforeStop.size() + resumed.size() == count);
        assertThat(onB.offsetFrames()).extracting(OffsetFrame::payload).containsExactlyElementsOf(numbered("n", count));
        List<OffsetFrame> joined = new ArrayList<>(beforeStop);
        joined.addAll(resumed.offsetFrames());
        assertThat(joined).containsExactlyElementsOf(onB.offsetFrames());
    }
}
