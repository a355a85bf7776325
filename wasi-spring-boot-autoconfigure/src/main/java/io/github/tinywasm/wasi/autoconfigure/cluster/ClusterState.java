package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * This node's cluster state, as the Actuator endpoint shows it under {@code cluster}.
 *
 * @param nodeId this node's id
 * @param connected whether its connections to Redis are up
 * @param since when {@code connected} last changed
 * @param outboxDepth entries waiting to go to Redis (queued, and on their way)
 * @param outboxCapacity most entries the outbox holds
 * @param outboxDropped entries dropped: the outbox was full (or the node stopped with them in it)
 * @param publishedFrames WebSocket frames this node added to the streams
 * @param publishedMessages bus messages this node added to the bus stream
 * @param readFrames frames read from the streams and handed to this node's WebSocket clients
 * @param readMessages messages of other nodes read from the bus stream and published on this node's bus
 * @param duplicates entries read again (sent again after a retry or a loss of Redis's data) and skipped
 * @param lost entries found missing from a node's numbering (gone from Redis before this node read them)
 * @param resent entries this node sent again because Redis lost its data
 * @param busTopics the bus topic patterns that cross nodes
 * @param topics the topic streams this node reads (the topics its clients follow), by topic
 * @param bus the bus stream, when bus topics cross nodes, else {@code null}
 */
public record ClusterState(String nodeId, boolean connected, Instant since, int outboxDepth, int outboxCapacity,
        long outboxDropped, long publishedFrames, long publishedMessages, long readFrames, long readMessages,
        long duplicates, long lost, long resent, List<String> busTopics, Map<String, StreamState> topics,
        @Nullable StreamState bus) {

    /** The largest lag of the streams read, in milliseconds (0 when none is behind or none is read). */
    public long maxLagMillis() {
        long max = bus != null && bus.lagMs() != null ? bus.lagMs() : 0;
        for (StreamState s : topics.values()) {
            if (s.lagMs() != null) {
                max = Math.max(max, s.lagMs());
            }
        }
        return max;
    }

    /**
     * One stream this node reads.
     *
     * @param stream its Redis key
     * @param epoch its epoch, or {@code null} until loaded
     * @param lastId the last entry id read, or {@code null} until loaded
     * @param lagMs how far (in milliseconds of entry ids) the stream's last entry is ahead of the last one read, or
     *     {@code null} when not known yet
     */
    public record StreamState(String stream, @Nullable String epoch, @Nullable String lastId, @Nullable Long lagMs) {}
}
