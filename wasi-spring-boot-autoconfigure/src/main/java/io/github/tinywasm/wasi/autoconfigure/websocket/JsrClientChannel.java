package io.github.tinywasm.wasi.autoconfigure.websocket;

import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketSession;

/**
 * A Spring MVC WebSocket session on a JSR-356 container, as a {@link ClientChannel}. Two ways to write a batch:
 * <ul>
 *   <li>blocking sends on a {@link BlockingSendPool} sender, up to {@value #FRAMES_PER_TURN} frames per turn
 *       before the sender serves other clients: the fast path, while the client keeps up. Each frame is its own
 *       write: no JSR-356 batching (see {@link PooledSender});
 *   <li>asynchronous sends, one frame after the other (JSR-356 allows one message in progress per session):
 *       no thread waits for the client. Used from the first turn whose sends waited longer than
 *       {@link BlockingSendPool#PINNED_MILLIS} in all (one long send, or many sends of a few ms each on a slow link:
 *       the client is slow, for the rest of the session; the turn ends there and the rest of its batch goes
 *       asynchronously), and for every client while the pool is saturated. So a sender is held by one client for
 *       about {@code PINNED_MILLIS} at most, plus one send.
 * </ul>
 *
 * <p>Every frame written reports progress to the fan-out ({@link WriteCallback#progressed()}): a slow client is
 * ended as stalled only when none of its frames went out for the send time limit, not when a batch takes long.
 * <ul>
 * </ul>
 *
 * <p>Closing uses Tomcat's session properties to bound how long a close may wait for a write in progress
 * (other containers ignore them; their close does not wait for writes): a close frame waits at most the given
 * time, and an abort does not wait at all, so the connection ends at once without a close frame (the client,
 * which is not reading, sees 1006).
 *
 * <p>The fan-out writes one batch at a time, so {@code pooled} and {@code async} (one each, reused) are used by
 * one thread at a time, handed over through the pool's queue or the container's completion.
 */
final class JsrClientChannel implements ClientChannel {

    /** Tomcat: longest a blocking send (used for close frames with code 1000) may wait, in ms. */
    static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    /** Tomcat: longest a close frame with another code than 1000 may wait, in ms (at least 1). */
    static final String ABNORMAL_CLOSE_TIMEOUT = "org.apache.tomcat.websocket.ABNORMAL_SESSION_CLOSE_SEND_TIMEOUT";
    /** Frames one blocking turn writes before the sender serves other clients. */
    static final int FRAMES_PER_TURN = 256;

    /** The turn the calling sender thread is running, if any. */
    private static final ThreadLocal<Turn> TURN = ThreadLocal.withInitial(Turn::new);
    private static final long PINNED_NANOS = TimeUnit.MILLISECONDS.toNanos(BlockingSendPool.PINNED_MILLIS);
    private static final WriteCallback IDLE = new WriteCallback() {
        @Override
        public void written() {}

        @Override
        public void failed(Throwable cause) {}

        @Override
        public void progressed() {}
    };

    private final WebSocketSession session;
    private final RemoteEndpoint.Basic basic;
    private final RemoteEndpoint.Async remote;
    private final Map<String, Object> properties;
    private final BlockingSendPool pool;
    private final PooledSender pooled = new PooledSender();
    private final AsyncSender async = new AsyncSender();
    private volatile boolean slow;

    JsrClientChannel(WebSocketSession session, jakarta.websocket.Session nativeSession, BlockingSendPool pool) {
        this.session = session;
        this.basic = nativeSession.getBasicRemote();
        this.remote = nativeSession.getAsyncRemote();
        this.properties = nativeSession.getUserProperties();
        this.pool = pool;
    }

    @Override
    public String id() {
        return session.getId();
    }

    @Override
    public @Nullable Object remoteAddress() {
        return session.getRemoteAddress();
    }

    @Override
    public void write(List<WireFrame> frames, WriteCallback done) {
        if (!slow) {
            pooled.reset(frames, done);
            Turn turn = TURN.get();
            if (turn.sender == pooled) {
                turn.handedOver = true; // the next batch, during this sender's turn: it goes on with it
                return;
            }
            if (pool.trySubmit(pooled)) {
                return;
            }
        }
        async.start(frames, 0, done);
    }

    /** Whether this client is written asynchronously only, since a send waited too long. */
    boolean slow() {
        return slow;
    }

    @Override
    public void close(int code, String reason, long maxWaitMillis) {
        if (maxWaitMillis <= 0) {
            abort(code, reason);
            return;
        }
        properties.put(BLOCKING_SEND_TIMEOUT, maxWaitMillis);
        properties.put(ABNORMAL_CLOSE_TIMEOUT, maxWaitMillis);
        closeQuietly(new CloseStatus(code, reason));
    }

    @Override
    public void abort(int code, String reason) {
        // A close with code 1000 waits BLOCKING_SEND_TIMEOUT for the write in progress: zero ends the connection
        // now. The code is never seen: no close frame can follow a write the client does not accept.
        properties.put(BLOCKING_SEND_TIMEOUT, 0L);
        closeQuietly(CloseStatus.NORMAL.withReason(reason));
    }

    private void closeQuietly(CloseStatus status) {
        try {
            session.close(status);
        } catch (IOException | RuntimeException e) {
            TopicFanOut.log.debug("closing WebSocket session {}: {}", session.getId(), e.toString());
        }
    }

    /**
     * Batches written with blocking sends on a pool sender, {@value #FRAMES_PER_TURN} frames per turn: a batch
     * the fan-out hands over while the sender completes the previous one (see {@link #write}) goes on in the
     * same turn, so a client that keeps up costs no hand-off per batch either.
     *
     * <p>No JSR-356 batching ({@code setBatchingAllowed}), although it would save a socket write per frame: Tomcat
     * closes a session (the client's close, a 1009, an abort) on another thread by turning batching off (a flush)
     * and then writing its close frame, which goes into the batch buffer if batching is on again by then; the
     * flush that follows is refused once the close frame is written, so that frame and the frames before it never
     * leave and the client gets no close frame. Turning batching on between the container's flush and its close
     * frame cannot be excluded from outside the container.
     */
    private final class PooledSender implements BlockingSendPool.Task {
        private List<WireFrame> frames = List.of();
        private WriteCallback done = IDLE;
        private int next;

        void reset(List<WireFrame> batch, WriteCallback callback) {
            frames = batch;
            done = callback;
            next = 0;
        }

        @Override
        public void run() {
            int budget = FRAMES_PER_TURN;
            long blocked = 0; // time this turn spent waiting in sends
            boolean more = false;
            Turn turn = TURN.get();
            turn.sender = this;
            try {
                while (true) {
                    List<WireFrame> batch = frames;
                    int end = Math.min(batch.size(), next + budget);
                    budget -= end - next;
                    try {
                        while (next < end) {
                            pool.sending();
                            try {
                                send(batch.get(next++));
                            } finally {
                                blocked += pool.sent();
                                if (blocked > PINNED_NANOS) {
                                    slow = true; // one long send, or many slow ones: it goes asynchronously
                                }
                            }
                            done.progressed();
                            if (slow) {
                                break;
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        finish().failed(e);
                        return;
                    }
                    if (next < batch.size()) {
                        more = true; // the turn is over, the batch is not
                        break;
                    }
                    turn.handedOver = false;
                    finish().written();
                    if (!turn.handedOver) {
                        return; // nothing more now; from here on another thread may use this object
                    }
                    if (slow || budget == 0) {
                        more = true;
                        break;
                    }
                }
            } finally {
                turn.sender = null;
            }
            if (more && (slow || !pool.trySubmit(this))) {
                runAsync();
            }
        }

        private void send(WireFrame frame) throws IOException {
            if (frame.text()) {
                basic.sendText(frame.asText());
            } else {
                basic.sendBinary(ByteBuffer.wrap(frame.bytes()));
            }
        }

        @Override
        public void runAsync() {
            List<WireFrame> batch = frames;
            int from = next;
            async.start(batch, from, finish());
        }

        private WriteCallback finish() {
            WriteCallback callback = done;
            frames = List.of();
            done = IDLE;
            return callback;
        }
    }

    /**
     * A sender thread's current turn, confined to that thread: which client it serves, and whether the fan-out
     * handed it that client's next batch while it completed the previous one.
     */
    private static final class Turn {
        @Nullable PooledSender sender;
        boolean handedOver;
    }

    /**
     * A batch written with asynchronous sends, each started when the previous one completed; a send that
     * completes on the thread that started it goes on in the loop rather than recursing. States: 0 sending,
     * 1 completed on the sending thread, 2 the sender left (the completion goes on).
     */
    private final class AsyncSender extends AtomicInteger implements SendHandler {
        private List<WireFrame> frames = List.of();
        private WriteCallback done = IDLE;
        private int next;
        private volatile @Nullable Throwable failure;

        void start(List<WireFrame> batch, int from, WriteCallback callback) {
            frames = batch;
            done = callback;
            next = from;
            failure = null;
            pump();
        }

        private void pump() {
            List<WireFrame> batch = frames;
            while (true) {
                if (next > 0) {
                    done.progressed(); // the previous frame went out (or failed: then the batch ends here)
                }
                Throwable error = failure;
                if (error != null || next == batch.size()) {
                    WriteCallback callback = done;
                    frames = List.of();
                    done = IDLE;
                    if (error != null) {
                        callback.failed(error);
                    } else {
                        callback.written();
                    }
                    return;
                }
                WireFrame frame = batch.get(next++);
                set(0);
                try {
                    if (frame.text()) {
                        remote.sendText(frame.asText(), this);
                    } else {
                        remote.sendBinary(ByteBuffer.wrap(frame.bytes()), this);
                    }
                } catch (RuntimeException e) {
                    failure = e;
                    continue;
                }
                if (compareAndSet(0, 2)) {
                    return;
                }
            }
        }

        @Override
        public void onResult(SendResult result) {
            if (!result.isOK()) {
                Throwable e = result.getException();
                failure = e != null ? e : new IOException("send failed");
            }
            if (!compareAndSet(0, 1)) {
                pump();
            }
        }
    }
}
