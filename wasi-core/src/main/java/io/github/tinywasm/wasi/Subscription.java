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

    /**
     * Lets the consumer receive what it already accepted, waiting up to {@code timeout}, then closes the subscription:
     * it gets no new message from the moment this is called. Messages still queued at the timeout are dropped and
     * counted. Called from the consumer itself (it cannot wait for itself), it closes at once.
     *
     * @return the messages dropped because they were still queued at the timeout
     */
    int drainAndClose(java.time.Duration timeout);

    @Override
    void close();
}
