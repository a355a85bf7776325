package io.github.tinywasm.wasi;

import org.jspecify.annotations.Nullable;

/**
 * Hooks around the bus, for tracing and observation: the Spring auto-configuration implements it with
 * Micrometer's Observation API, so that one trace follows a message from its publisher through the guests that
 * handle it (and what they publish or broadcast meanwhile) to Java listeners.
 *
 * <p>Threads: {@link #beforePublish} runs on the publisher's thread (the application's, or the worker running
 * the guest that publishes); {@link #beforeProcess} runs on the subscriber's worker thread, just before it
 * handles the message, and the scope it returns is closed on that thread just after. A guest's own publishes
 * and broadcasts therefore happen inside the scope of the message it is handling. Implementations must be
 * quick and must not throw.
 */
public interface BusInterceptor {

    /** Does nothing. */
    BusInterceptor NONE = new BusInterceptor() {};

    /**
     * Before a message is offered to its subscribers.
     *
     * @return the message to publish: {@code message} itself, or a copy with more headers
     *     ({@link Message#withHeader}), for example the trace context
     */
    default Message beforePublish(Message message) {
        return message;
    }

    /**
     * Before one subscriber handles a message.
     *
     * @param module the module that handles it, or {@code null} for a Java subscriber
     * @return a scope closed after the subscriber has handled the message
     */
    default Scope beforeProcess(@Nullable String module, Message message) {
        return Scope.NONE;
    }

    /** Around one delivery, on the subscriber's thread. */
    @FunctionalInterface
    interface Scope {
        /** Does nothing. */
        Scope NONE = error -> {};

        /** @param error why handling failed (a guest error, a Java exception), or {@code null} */
        void close(@Nullable Throwable error);
    }
}
