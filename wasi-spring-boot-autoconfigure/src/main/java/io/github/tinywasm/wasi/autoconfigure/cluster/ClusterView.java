package io.github.tinywasm.wasi.autoconfigure.cluster;

/**
 * What this node shows of its cluster (the Actuator endpoint, the health indicator, the meters read it). Has no Redis
 * type in it, so that readers load without the Redis client's classes.
 */
public interface ClusterView {

    /** A snapshot of this node's cluster state. */
    ClusterState state();
}
