package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.Subscription;
import io.github.tinywasm.wasi.WasiServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the bus topics of {@code tinywasm.wasi.cluster.topics} across nodes, through the engine's public API
 * only. Outbound: a Java subscription to every topic sends each message whose topic matches to the bus stream
 * (through the outbox), unless it came from the cluster. Inbound: each message of another node read from the bus
 * stream is published on this node's bus with header {@value #ORIGIN} (the sending node), so that it reaches this
 * node's subscribed guests and Java subscribers once, and is not sent back out.
 *
 * <p>On the stream a message is fields {@code t} (topic), {@code p} (payload), and when present {@code y} (type),
 * {@code c} (correlation id), {@code m} (the publishing module) and {@code h.NAME} (headers). On the receiving node
 * the publishing module, if any, is in header {@value #MODULE}.
 *
 * <p>Threads: {@link #forward} runs on the bus's pool (one message at a time, in publish order), {@link #receive} on
 * the cluster's reader.
 */
final class BusBridge {

    /** Header of a message that came from another node: that node's id. */
    static final String ORIGIN = "tinywasm-cluster-origin";
    /** Header of a message that came from another node: the module that published it there, if one did. */
    static final String MODULE = "tinywasm-cluster-module";

    private static final Logger log = LoggerFactory.getLogger(BusBridge.class);
    private static final String HEADER = "h.";

    private final ClusterNode node;
    private final WasiServer server;
    private final TopicPatterns patterns;
    private final ClusterOutbox outbox;
    private final StreamRef stream;
    private @Nullable Subscription subscription;

    BusBridge(ClusterNode node, WasiServer server, TopicPatterns patterns, ClusterOutbox outbox) {
        this.node = node;
        this.server = server;
        this.patterns = patterns;
        this.outbox = outbox;
        this.stream = node.busStream();
    }

    void start() {
        subscription = server.subscribeAll(this::forward);
    }

    void stop() {
        Subscription s = subscription;
        subscription = null;
        if (s != null) {
            s.close();
        }
    }

    /** A message on this node's bus: to the cluster when its topic crosses nodes and it did not come from there. */
    void forward(Message message) {
        if (message.header(ORIGIN) != null || !patterns.matches(message.topic())) {
            return;
        }
        List<byte[]> fields = new ArrayList<>(8);
        add(fields, "t", message.topic());
        fields.add(bytes("p"));
        fields.add(message.payload());
        if (message.type() != null) {
            add(fields, "y", message.type());
        }
        if (message.correlationId() != null) {
            add(fields, "c", message.correlationId());
        }
        if (message.source() != null) {
            add(fields, "m", message.source());
        }
        for (Map.Entry<String, String> h : message.headers().entrySet()) {
            add(fields, HEADER + h.getKey(), h.getValue());
        }
        if (!outbox.offer(new ClusterOutbox.Entry(stream, fields.toArray(new byte[0][])))) {
            node.outboxFull();
        }
    }

    /** A message of another node, read from the bus stream: published on this node's bus. */
    void receive(String origin, Map<String, byte[]> fields) {
        String topic = text(fields.get("t"));
        byte[] payload = fields.get("p");
        if (topic == null || payload == null) {
            return;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> f : fields.entrySet()) {
            if (f.getKey().startsWith(HEADER)) {
                headers.put(f.getKey().substring(HEADER.length()), text(f.getValue()));
            }
        }
        String module = text(fields.get("m"));
        if (module != null) {
            headers.put(MODULE, module);
        }
        headers.put(ORIGIN, origin(origin));
        try {
            server.publish(Message.of(topic, text(fields.get("y")), text(fields.get("c")), payload).withHeaders(headers));
        } catch (RuntimeException e) {
            log.warn("[cluster {}] could not publish a message of {} on topic '{}': {}", node.id(), origin, topic, e.toString());
        }
    }

    /** The node id of an origin ({@code NODE/RUN}). */
    static String origin(String origin) {
        int slash = origin.lastIndexOf('/');
        return slash > 0 ? origin.substring(0, slash) : origin;
    }

    private static void add(List<byte[]> fields, String name, String value) {
        fields.add(bytes(name));
        fields.add(bytes(value));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static @Nullable String text(byte @Nullable [] value) {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }
}
