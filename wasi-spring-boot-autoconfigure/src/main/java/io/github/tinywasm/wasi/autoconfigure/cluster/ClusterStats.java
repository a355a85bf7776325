package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.util.concurrent.atomic.LongAdder;

/** Cumulative counters of this node in the cluster; written by the cluster's threads, read from any thread. */
final class ClusterStats {

    private final LongAdder publishedTopics = new LongAdder();
    private final LongAdder publishedBus = new LongAdder();
    private final LongAdder readTopics = new LongAdder();
    private final LongAdder readBus = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder lost = new LongAdder();
    private final LongAdder resent = new LongAdder();

    void published(boolean bus) {
        (bus ? publishedBus : publishedTopics).increment();
    }

    void read(boolean bus) {
        (bus ? readBus : readTopics).increment();
    }

    void duplicate() {
        duplicates.increment();
    }

    void lost(long entries) {
        lost.add(entries);
    }

    void resent(long entries) {
        resent.add(entries);
    }

    /** Entries this node added to Redis: WebSocket frames. */
    long publishedTopics() {
        return publishedTopics.sum();
    }

    /** Entries this node added to Redis: bus messages. */
    long publishedBus() {
        return publishedBus.sum();
    }

    /** Entries read from Redis and handed to this node's WebSocket fan-out. */
    long readTopics() {
        return readTopics.sum();
    }

    /** Entries read from Redis and published on this node's bus. */
    long readBus() {
        return readBus.sum();
    }

    /** Entries read twice (sent again after a retry or a loss of Redis's data) and delivered once. */
    long duplicates() {
        return duplicates.sum();
    }

    /** Entries a reader found missing from a node's numbering (gone from Redis before it read them). */
    long lost() {
        return lost.sum();
    }

    /** Entries this node sent again because Redis lost its data. */
    long resent() {
        return resent.sum();
    }
}
