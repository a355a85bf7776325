package io.github.tinywasm.wasi;

/**
 * A Java subscription to the bus; {@link #close()} ends it. Messages still queued for it then are dropped and counted
 * in {@link #dropped()}.
 */
public interface Subscription extends AutoCloseable {

    /** The topic, or {@code "*"} for a subscription to every topic. */
    String topic();

    /**
     * Messages dropped for this subscriber: its mailbox was full, or it was closed with messages still queued (by
     * {@link #close()}, or by {@link WasiServer#close()} past the drain timeout).
     */
    long dropped();

    @Override
    void close();
}
