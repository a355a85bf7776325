package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters of this node in the cluster, read from its counters when scraped (names, tags and units in
 * docs/configuration.md): {@code wasi.cluster.published} and {@code wasi.cluster.read} (kind = websocket | bus),
 * {@code wasi.cluster.outbox.depth}, {@code wasi.cluster.outbox.dropped}, {@code wasi.cluster.lag},
 * {@code wasi.cluster.duplicates}, {@code wasi.cluster.lost}, {@code wasi.cluster.connected}. Never tagged by topic.
 */
public class ClusterMetrics implements MeterBinder {

    private static final String KIND = "kind";

    private final ClusterNode node;

    public ClusterMetrics(ClusterNode node) {
        this.node = node;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "wasi.cluster.published", "websocket", "WebSocket frames this node added to the cluster's streams",
                n -> n.stats().publishedTopics());
        counter(registry, "wasi.cluster.published", "bus", "Bus messages this node added to the cluster's bus stream",
                n -> n.stats().publishedBus());
        counter(registry, "wasi.cluster.read", "websocket", "Frames read from the cluster's streams for this node's clients",
                n -> n.stats().readTopics());
        counter(registry, "wasi.cluster.read", "bus", "Messages of other nodes read from the bus stream and published here",
                n -> n.stats().readBus());
        Gauge.builder("wasi.cluster.outbox.depth", node, ClusterNode::outboxDepth).baseUnit(BaseUnits.MESSAGES)
                .description("Entries waiting to go to Redis").register(registry);
        FunctionCounter.builder("wasi.cluster.outbox.dropped", node, ClusterNode::outboxDropped).baseUnit(BaseUnits.MESSAGES)
                .description("Entries dropped because the outbox was full").register(registry);
        Gauge.builder("wasi.cluster.lag", node, n -> n.maxLagMillis() / 1000.0).baseUnit("seconds")
                .description("How far the last entry of the most behind stream this node reads is ahead of what it read")
                .register(registry);
        FunctionCounter.builder("wasi.cluster.duplicates", node, n -> n.stats().duplicates()).baseUnit(BaseUnits.MESSAGES)
                .description("Entries read again and delivered once").register(registry);
        FunctionCounter.builder("wasi.cluster.lost", node, n -> n.stats().lost()).baseUnit(BaseUnits.MESSAGES)
                .description("Entries gone from Redis before this node read them").register(registry);
        Gauge.builder("wasi.cluster.connected", node, n -> n.connected() ? 1 : 0)
                .description("1 while this node's connections to Redis are up, else 0").register(registry);
    }

    private void counter(MeterRegistry registry, String name, String kind, String description,
            ToDoubleFunction<ClusterNode> value) {
        FunctionCounter.builder(name, node, value).tag(KIND, kind).baseUnit(BaseUnits.MESSAGES).description(description)
                .register(registry);
    }
}
