package io.github.tinywasm.wasi;

/** A Java subscription to the bus; {@link #close()} ends it. Messages still queued for it are dropped. */
public interface Subscription extends AutoCloseable {

    /** The topic, or {@code "*"} for a subscription to every topic. */
    String topic();

    /** Messages dropped for this subscriber because its mailbox was full. */
    long dropped();

    @Override
    void close();
}
