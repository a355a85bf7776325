package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One WebSocket client as the {@link TopicFanOut} sees it: the thin, stack-specific side of a session (a JSR-356
 * session under Spring MVC, a reactive session under WebFlux). The fan-out owns the queue, the limits and the
 * counting; a channel only writes, closes and aborts.
 *
 * <p>No method may block on the client: a client that stops reading must not hold the calling thread. The
 * fan-out calls {@link #write} for one batch at a time, never twice before the batch completed.
 */
interface ClientChannel {

    /** The session's id, for log lines. */
    String id();

    /** The client's address, for log lines, or {@code null}. */
    @Nullable Object remoteAddress();

    /**
     * Writes {@code frames}, in order, as binary or text frames, without blocking. Calls {@code done} exactly once,
     * when every frame was handed to the network or when writing failed; possibly on the calling thread, before
     * this method returns.
     */
    void write(List<WireFrame> frames, WriteCallback done);

    /**
     * Starts closing the session with {@code code} and {@code reason}, sending a close frame if the connection
     * can take one within {@code maxWaitMillis}, and ending the connection otherwise. Blocks at most about
     * {@code maxWaitMillis}.
     */
    void close(int code, String reason, long maxWaitMillis);

    /** Ends the connection at once, without waiting for a write in progress. Does not block. */
    void abort(int code, String reason);

    /** Completion of one {@link #write}. */
    interface WriteCallback {
        /** Every frame was handed to the network. */
        void written();

        /** Writing failed; the session is broken. */
        void failed(Throwable cause);

        /**
         * Some of the frames went out (or were taken by the writer): the client makes progress, however slowly.
         * Called any number of times before {@link #written()}, from any thread; must be cheap and must not block.
         */
        void progressed();
    }
}
