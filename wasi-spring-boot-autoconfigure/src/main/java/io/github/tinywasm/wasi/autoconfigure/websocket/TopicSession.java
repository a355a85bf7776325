package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One client of one topic in the {@link TopicFanOut}: its wire format, its bounded queue of frames and its write
 * state.
 *
 * <p>Frames go out in batches: when the client is idle, the thread that queues a frame starts a write of
 * everything queued; when a write completes, the thread completing it (the container's or the event loop's)
 * starts the next one with everything queued meanwhile. So there is one hand-off per batch, not per frame, and
 * a client that stops reading holds no thread at all: its write simply does not complete, its queue fills up
 * (frames beyond the buffer limit are dropped for it alone), and the sweeper closes it once its write has
 * waited longer than the send time limit.
 *
 * <p>Guarded by {@code this}: the queue, the byte counts, {@code writing}, {@code writeStartedAt},
 * {@code state} and {@code afterWrite}. The channel is never called while holding the monitor. At most one
 * write is in flight ({@code writing}).
 */
final class TopicSession {

    /** Outcome of {@link #offer(WireFrame)}. */
    enum Offer {
        /** Queued behind a write in flight. */
        QUEUED,
        /** Queued, and the client was idle: the caller must call {@link #startWriting()}. */
        START,
        /** Dropped: the buffer is full. */
        DROPPED,
        /**
         * Not queued: the buffer is full and the client, in the offsets format, must not miss a frame silently: the
         * caller closes it ({@link WireFormat#LAGGING}) so that it resumes from the history.
         */
        LAGGING,
        /** The session is closing or closed. */
        CLOSED
    }

    private enum State {
        OPEN,
        /** A close was decided (stalled, failed, shutting down): nothing more is queued or written. */
        CLOSING,
        /** The connection is gone. */
        CLOSED
    }

    private final ClientChannel channel;
    private final String topic;
    private final long bufferLimit;
    private final TopicFanOut.Stats stats;
    private final boolean offsets;
    /** Frames up to this offset are not for this client (it saw them on another node); set before it goes live. */
    private @Nullable TopicOffset skipThrough;

    private List<WireFrame> queue = new ArrayList<>();
    /** Bytes queued plus bytes of the write in flight: what the client holds in memory. */
    private long bufferedBytes;
    private long inFlightBytes;
    private boolean writing;
    private long writeStartedAt;
    /** When the write in flight last made progress (a frame went out); written without the monitor. */
    private volatile long progressAt;
    private State state = State.OPEN;
    private @Nullable Runnable afterWrite;

    TopicSession(ClientChannel channel, String topic, long bufferLimit, TopicFanOut.Stats stats, boolean offsets) {
        this.channel = channel;
        this.topic = topic;
        this.bufferLimit = bufferLimit;
        this.stats = stats;
        this.offsets = offsets;
    }

    /** Whether the client gets the offsets format. */
    boolean offsets() {
        return offsets;
    }

    /**
     * Whether the frame at {@code offset} is not for this client. Read and written under the topic's monitor
     * only (set while the session joins, read by the deliveries of its topic).
     */
    boolean skips(TopicOffset offset) {
        TopicOffset s = skipThrough;
        if (s == null) {
            return false;
        }
        if (offset.isAfter(s)) {
            skipThrough = null;
            return false;
        }
        return true;
    }

    void skipThrough(@Nullable TopicOffset offset) {
        skipThrough = offset;
    }

    String topic() {
        return topic;
    }

    ClientChannel channel() {
        return channel;
    }

    /**
     * Queues one frame. A frame that would take the client past the buffer limit is dropped for this client
     * only; a frame larger than the limit still goes when nothing else is buffered.
     */
    synchronized Offer offer(WireFrame frame) {
        if (state != State.OPEN) {
            return Offer.CLOSED;
        }
        if (bufferedBytes > 0 && bufferedBytes + frame.size() > bufferLimit) {
            return offsets ? Offer.LAGGING : Offer.DROPPED;
        }
        queue.add(frame);
        bufferedBytes += frame.size();
        if (writing) {
            return Offer.QUEUED;
        }
        writing = true;
        return Offer.START;
    }

    /**
     * Queues frames whatever the buffer limit: what a resuming client missed, from the history (which holds them
     * anyway), and the notice after it. Only before the session joins its topic.
     */
    synchronized void offerAll(List<WireFrame> frames) {
        if (state != State.OPEN) {
            return;
        }
        for (WireFrame f : frames) {
            queue.add(f);
            bufferedBytes += f.size();
        }
    }

    /** Whether the caller should start writing what {@link #offerAll} queued: the client is idle and has frames. */
    synchronized boolean claimStart() {
        if (state != State.OPEN || writing || queue.isEmpty()) {
            return false;
        }
        writing = true;
        return true;
    }

    /** Writes everything queued, after {@link #offer} returned {@link Offer#START}. */
    void startWriting() {
        List<WireFrame> batch;
        synchronized (this) {
            batch = takeBatch();
        }
        writeLoop(batch);
    }

    /** Takes the whole queue as the next batch, or ends writing when there is none. Holds the monitor. */
    private @Nullable List<WireFrame> takeBatch() {
        if (state != State.OPEN || queue.isEmpty()) {
            writing = false;
            return null;
        }
        List<WireFrame> batch = queue;
        queue = new ArrayList<>(Math.max(8, batch.size()));
        inFlightBytes = bufferedBytes;
        writeStartedAt = System.nanoTime();
        return batch;
    }

    /** Writes batches until one completes asynchronously; its completion goes on from there. */
    private void writeLoop(@Nullable List<WireFrame> batch) {
        while (batch != null) {
            Write write = new Write(batch.size());
            try {
                channel.write(batch, write);
            } catch (RuntimeException e) {
                write.failed(e);
            }
            batch = write.detach();
        }
    }

    /** Ends the write in flight; returns the next batch to write, or {@code null}. */
    private @Nullable List<WireFrame> finished(int frames, @Nullable Throwable failure) {
        List<WireFrame> next = null;
        Runnable after = null;
        boolean broke = false;
        synchronized (this) {
            bufferedBytes -= inFlightBytes;
            inFlightBytes = 0;
            writeStartedAt = 0;
            if (state == State.OPEN && failure != null) {
                state = State.CLOSING;
                dropQueue();
                broke = true;
            }
            if (state == State.OPEN) {
                next = takeBatch();
            } else {
                writing = false;
                after = afterWrite;
                afterWrite = null;
            }
        }
        if (failure == null) {
            stats.sent.add(frames);
        } else if (broke) {
            stats.sendFailures.increment();
            TopicFanOut.log.debug("WebSocket session {} of '{}': write failed, closing it: {}", channel.id(), topic,
                    failure.toString());
            channel.abort(TopicFanOut.SERVER_ERROR, "write failed");
        }
        if (after != null) {
            after.run();
        }
        return next;
    }

    private void dropQueue() {
        queue = new ArrayList<>();
        bufferedBytes = inFlightBytes;
    }

    /**
     * Decides that this client stalled when its write has made no progress (no frame went out) for longer than
     * {@code limitNanos}: a client on a slow link whose batch takes longer than that, frame after frame, is not
     * stalled. True only once: the caller then counts it and aborts the channel.
     */
    synchronized boolean stalled(long now, long limitNanos) {
        if (state != State.OPEN || !writing || writeStartedAt == 0
                || now - Math.max(writeStartedAt, progressAt) <= limitNanos) {
            return false;
        }
        state = State.CLOSING;
        dropQueue();
        return true;
    }

    /**
     * Starts closing for shutdown: drops what is queued and sends the close frame now when no write is in
     * flight, else as soon as it completes.
     *
     * @return whether the session was open
     */
    boolean closeGoingAway(long maxWaitMillis) {
        return closeAfterWrite(TopicFanOut.GOING_AWAY, "server shutting down", maxWaitMillis);
    }

    /**
     * Starts closing with {@code code}: drops what is queued and sends the close frame now when no write is in
     * flight, else as soon as it completes.
     *
     * @return whether the session was open (false: it was already closing, nothing done)
     */
    boolean closeAfterWrite(int code, String reason, long maxWaitMillis) {
        Runnable close = () -> channel.close(code, reason, maxWaitMillis);
        synchronized (this) {
            if (state != State.OPEN) {
                return false;
            }
            state = State.CLOSING;
            dropQueue();
            if (writing) {
                afterWrite = close;
                return true;
            }
        }
        close.run();
        return true;
    }

    /** The connection is gone: forget everything queued. */
    synchronized void closed() {
        state = State.CLOSED;
        dropQueue();
        afterWrite = null;
    }

    /**
     * Completion of one batch, trampolined: a write that completes on the thread that started it returns to
     * {@link #writeLoop} instead of recursing; one that completes later goes on on the completing thread.
     * States: 0 in progress, 1 completed on the starting thread, 2 the starter left, 3 done.
     */
    private final class Write extends AtomicInteger implements ClientChannel.WriteCallback {
        private final int frames;
        private volatile @Nullable Throwable failure;

        Write(int frames) {
            this.frames = frames;
        }

        @Override
        public void written() {
            complete(null);
        }

        @Override
        public void failed(Throwable cause) {
            complete(cause);
        }

        @Override
        public void progressed() {
            progressAt = System.nanoTime();
        }

        private void complete(@Nullable Throwable cause) {
            failure = cause;
            if (compareAndSet(0, 1)) {
                return;
            }
            if (compareAndSet(2, 3)) {
                writeLoop(finished(frames, cause));
            }
        }

        @Nullable List<WireFrame> detach() {
            if (compareAndSet(0, 2)) {
                return null;
            }
            if (compareAndSet(1, 3)) {
                return finished(frames, failure);
            }
            return null;
        }
    }
}
