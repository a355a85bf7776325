package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.springframework.web.socket.WebSocketSession;

/**
 * One client of one topic, with its own bounded queue of frames. The broadcasting thread only enqueues; a
 * sender thread writes the queued frames with the container's blocking send, a few at a time, so a client
 * that stops reading holds up at most the one sender thread writing to it (and only until the send time limit
 * closes it; the handler adds sender threads meanwhile, see {@link TopicWebSocketHandler}).
 *
 * <p>Guarded by {@code this}: the queue, its byte count, {@code sending}, {@code sendStartedAt} and
 * {@code closed}. At most one sender runs {@link #pump()} for a session at a time ({@code sending}).
 */
final class TopicSession {

    /** Frames one pump writes before it yields its thread to other sessions. */
    private static final int FRAMES_PER_TURN = 256;

    /** Outcome of {@link #offer(byte[])}. */
    enum Offer {
        /** Queued behind frames a sender is already writing. */
        QUEUED,
        /** Queued, and no sender is writing: the caller must run {@link #pump()} on a sender thread. */
        START,
        /** Dropped: the queue is at the buffer limit. */
        DROPPED,
        /** The session is closed. */
        CLOSED
    }

    private final WebSocketSession session;
    private final jakarta.websocket.RemoteEndpoint.Basic remote;
    private final String topic;
    private final long bufferLimit;
    private final TopicWebSocketHandler.Stats stats;

    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean sending;
    private long sendStartedAt;
    private boolean closed;

    TopicSession(WebSocketSession session, jakarta.websocket.Session nativeSession, String topic, long bufferLimit,
            TopicWebSocketHandler.Stats stats) {
        this.session = session;
        this.remote = nativeSession.getBasicRemote();
        this.topic = topic;
        this.bufferLimit = bufferLimit;
        this.stats = stats;
    }

    String topic() {
        return topic;
    }

    WebSocketSession session() {
        return session;
    }

    /**
     * Queues one binary frame. A frame that would take the queue past the buffer limit is dropped for this
     * client only (a frame larger than the limit still goes when nothing else is queued).
     */
    synchronized Offer offer(byte[] frame) {
        if (closed) {
            return Offer.CLOSED;
        }
        if ((!queue.isEmpty() || sending) && queuedBytes + frame.length > bufferLimit) {
            return Offer.DROPPED;
        }
        queue.addLast(frame);
        queuedBytes += frame.length;
        if (sending) {
            return Offer.QUEUED;
        }
        sending = true;
        return Offer.START;
    }

    /**
     * Writes up to {@value #FRAMES_PER_TURN} queued frames; runs after {@link #offer} returned
     * {@link Offer#START}, or after a previous turn.
     *
     * @return whether frames are left and the caller should schedule another turn
     */
    boolean pump() {
        for (int i = 0; i < FRAMES_PER_TURN; i++) {
            byte[] next;
            synchronized (this) {
                next = closed ? null : queue.pollFirst();
                if (next == null) {
                    sending = false;
                    return false;
                }
                queuedBytes -= next.length;
                sendStartedAt = System.nanoTime();
            }
            try {
                remote.sendBinary(ByteBuffer.wrap(next));
                stats.sent();
            } catch (IOException | RuntimeException e) {
                failed();
                return false;
            } finally {
                synchronized (this) {
                    sendStartedAt = 0;
                }
            }
        }
        synchronized (this) {
            if (closed || queue.isEmpty()) {
                sending = false;
                return false;
            }
            return true;
        }
    }

    private void failed() {
        stats.sendFailed();
        close();
    }

    /** Nanoseconds the frame being written has been waiting, or 0 when none is. */
    synchronized long stalledFor(long now) {
        return sendStartedAt == 0 ? 0 : now - sendStartedAt;
    }

    /** Stops sending and forgets queued frames; the session itself is closed by the caller. */
    synchronized void close() {
        closed = true;
        sending = false;
        queue.clear();
        queuedBytes = 0;
    }
}
