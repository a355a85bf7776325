package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What this node sends to the cluster and Redis has not taken yet: a bounded first-in first-out queue. Guests'
 * broadcasts and bus messages are offered on the threads that make them and never wait: when the outbox is full
 * (Redis unreachable or slower than the node) the entry is dropped and counted. The publisher takes entries in
 * batches, in order.
 *
 * <p>Guarded by {@code this}: the queue and {@code closed}.
 */
final class ClusterOutbox {

    /** One entry to append to a stream: the stream and its field/value pairs (besides epoch, origin, sequence). */
    record Entry(StreamRef stream, byte[][] fields) {}

    private final int capacity;
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder offered = new LongAdder();
    private boolean closed;

    ClusterOutbox(int capacity) {
        this.capacity = capacity;
    }

    /** Queues {@code entry}; false (dropped, counted) when the outbox is full or closed. */
    boolean offer(Entry entry) {
        synchronized (this) {
            if (!closed && queue.size() < capacity) {
                queue.add(entry);
                offered.increment();
                if (queue.size() == 1) {
                    notifyAll();
                }
                return true;
            }
        }
        dropped.increment();
        return false;
    }

    /** Takes up to {@code max} entries, waiting up to {@code waitMillis} for the first; empty if none came. */
    List<Entry> take(int max, long waitMillis) throws InterruptedException {
        synchronized (this) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
            long left;
            while (queue.isEmpty() && !closed && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            List<Entry> batch = new ArrayList<>(Math.min(max, queue.size()));
            while (batch.size() < max && !queue.isEmpty()) {
                batch.add(queue.poll());
            }
            return batch;
        }
    }

    /** Refuses entries from now on; returns how many were still queued (they are dropped and counted). */
    int close() {
        synchronized (this) {
            closed = true;
            int left = queue.size();
            queue.clear();
            dropped.add(left);
            notifyAll();
            return left;
        }
    }

    synchronized int depth() {
        return queue.size();
    }

    int capacity() {
        return capacity;
    }

    /** Entries dropped: the outbox was full, or closed with them in it. */
    long dropped() {
        return dropped.sum();
    }

    /** Entries queued so far. */
    long offered() {
        return offered.sum();
    }
}
