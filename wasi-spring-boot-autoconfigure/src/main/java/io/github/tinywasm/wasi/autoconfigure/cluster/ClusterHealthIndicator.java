package io.github.tinywasm.wasi.autoconfigure.cluster;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * Health of this node's cluster connection ({@code wasiCluster}): UP while its connections to Redis are up,
 * {@value #DISCONNECTED_CODE} while Redis is unreachable, with the node, the outbox and the lag in the details.
 *
 * <p>{@value #DISCONNECTED_CODE} is not in Spring Boot's status order ({@code management.endpoint.health.status.order},
 * DOWN, OUT_OF_SERVICE, UP, UNKNOWN by default), so the application's status ignores it: a Redis outage does not take
 * every node out of its load balancer while they keep serving their modules. To make it count, add it to the order
 * of a health group of its own (or of the application).
 */
public class ClusterHealthIndicator extends AbstractHealthIndicator {

    /** Code of the status while Redis is unreachable. */
    public static final String DISCONNECTED_CODE = "DISCONNECTED";
    /** The status while Redis is unreachable. */
    public static final Status DISCONNECTED = new Status(DISCONNECTED_CODE,
            "Redis is unreachable: the modules serve, what goes to the cluster waits in the outbox");

    private final ClusterView cluster;

    public ClusterHealthIndicator(ClusterView cluster) {
        super("WASI cluster health check failed");
        this.cluster = cluster;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        ClusterState s = cluster.state();
        (s.connected() ? builder.up() : builder.status(DISCONNECTED))
                .withDetail("nodeId", s.nodeId())
                .withDetail("since", s.since().toString())
                .withDetail("outboxDepth", s.outboxDepth())
                .withDetail("outboxCapacity", s.outboxCapacity())
                .withDetail("outboxDropped", s.outboxDropped())
                .withDetail("maxLagMs", s.maxLagMillis());
    }
}
