package io.github.tinywasm.wasi.autoconfigure.websocket;

import jakarta.websocket.SendResult;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.springframework.web.socket.WebSocketSession;

/**
 * One client of one topic, with its own bounded queue of frames and at most one asynchronous send in
 * flight. The broadcasting thread only enqueues; frames are written by the container's asynchronous
 * remote endpoint, so a client that stops reading holds up nobody but itself.
 *
 * <p>Guarded by {@code this}: the queue, its byte count, {@code sending}, {@code inSend}, {@code completedInline}
 * and {@code sendStartedAt}. Completion handlers may run on the sending thread itself (the write finished at
 * once) or on a container thread: {@link #pump()} loops instead of recursing in the first case.
 */
final class TopicSession {

    /** Outcome of {@link #offer(byte[])}. */
    enum Offer {
        /** Queued behind a send in progress. */
        QUEUED,
        /** Queued, and no send is in progress: the caller must run {@link #pump()} (on a sender thread). */
        START,
        DROPPED,
        CLOSED
    }

    private final WebSocketSession session;
    private final jakarta.websocket.RemoteEndpoint.Async remote;
    private final String topic;
    private final long bufferLimit;
    private final TopicWebSocketHandler.Stats stats;

    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean sending;
    private boolean inSend;
    private boolean completedInline;
    private long sendStartedAt;
    private boolean closed;

    TopicSession(WebSocketSession session, jakarta.websocket.Session nativeSession, String topic, long bufferLimit,
            TopicWebSocketHandler.Stats stats) {
        this.session = session;
        this.remote = nativeSession.getAsyncRemote();
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
     * client only (a frame larger than the limit still goes when the queue is empty).
     */
    Offer offer(byte[] frame) {
        synchronized (this) {
            if (closed) {
                return Offer.CLOSED;
            }
            if (!queue.isEmpty() || sending) {
                if (queuedBytes + frame.length > bufferLimit) {
                    return Offer.DROPPED;
                }
            }
            queue.addLast(ByteBuffer.wrap(frame));
            queuedBytes += frame.length;
            if (sending) {
                return Offer.QUEUED;
            }
            sending = true;
        }
        return Offer.START;
    }

    /** Sends queued frames one at a time; runs after {@link #offer} returned {@link Offer#START}. */
    void pump() {
        while (true) {
            ByteBuffer next;
            synchronized (this) {
                next = closed ? null : queue.pollFirst();
                if (next == null) {
                    sending = false;
                    return;
                }
                queuedBytes -= next.remaining();
                inSend = true;
                completedInline = false;
                sendStartedAt = System.nanoTime();
            }
            try {
                remote.sendBinary(next, this::sent);
            } catch (RuntimeException e) {
                // the container refused the frame: the session is closing or broken
                failed();
                return;
            }
            synchronized (this) {
                inSend = false;
                if (!completedInline) {
                    return; // the completion handler will continue on the container's thread
                }
            }
        }
    }

    private void sent(SendResult result) {
        if (result.isOK()) {
            stats.sent();
        } else {
            failed();
            return;
        }
        synchronized (this) {
            sendStartedAt = 0;
            if (inSend) {
                completedInline = true;
                return;
            }
        }
        pump();
    }

    private void failed() {
        stats.sendFailed();
        synchronized (this) {
            closed = true;
            sending = false;
            sendStartedAt = 0;
            queue.clear();
            queuedBytes = 0;
        }
    }

    /** Nanoseconds the frame in flight has been waiting, or 0 when none is. */
    synchronized long stalledFor(long now) {
        return sendStartedAt == 0 ? 0 : now - sendStartedAt;
    }

    synchronized int queuedFrames() {
        return queue.size();
    }

    /** Stops sending and forgets queued frames; the session itself is closed by the caller. */
    synchronized void close() {
        closed = true;
        queue.clear();
        queuedBytes = 0;
    }
}
