package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * One Redis stream of the cluster and its companion keys: the stream itself, its epoch (a random token created
 * with the stream, gone with it: it tells a stream from the one Redis has after losing its data) and the last
 * sequence number each sending node added to it (so that a retried or reordered append is recognised).
 *
 * @param topic the WebSocket topic of a topic stream, or {@code null} for the bus stream
 * @param key the stream's key
 * @param epochKey the key of its epoch
 * @param seqKey the key of its hash of last sequence numbers, by sending node
 */
record StreamRef(@Nullable String topic, String key, String epochKey, String seqKey) {

    /** The stream of WebSocket topic {@code topic}: {@code PREFIXws:TOPIC}. */
    static StreamRef topic(String prefix, String topic) {
        return new StreamRef(topic, prefix + "ws:" + topic, prefix + "ws-epoch:" + topic, prefix + "ws-seq:" + topic);
    }

    /** The stream of the bus topics that cross nodes: {@code PREFIXbus}. */
    static StreamRef bus(String prefix) {
        return new StreamRef(null, prefix + "bus", prefix + "bus-epoch", prefix + "bus-seq");
    }

    /** The WebSocket topic of a topic's stream (never called for the bus stream). */
    String wsTopic() {
        if (topic == null) {
            throw new IllegalStateException("the bus stream " + key + " has no WebSocket topic");
        }
        return topic;
    }

    boolean isBus() {
        return topic == null;
    }

    byte[] keyBytes() {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /** For log lines and the endpoint: the topic, or "bus". */
    String label() {
        return topic != null ? topic : "(bus)";
    }
}
