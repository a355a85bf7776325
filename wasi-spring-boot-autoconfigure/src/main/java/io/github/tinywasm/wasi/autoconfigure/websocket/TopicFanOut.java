package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.WebSocketBroadcaster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

/**
 * The fan-out behind {@code /ws?topic=NAME}, whatever the web stack: the open sessions by topic, each client's
 * bounded queue, the time limit, the counters, and the {@link WebSocketBroadcaster} every guest's
 * {@code ws_broadcast} reaches. A thin adapter per web stack ({@link TopicWebSocketHandler} for Spring MVC,
 * {@link ReactiveTopicWebSocketHandler} for WebFlux) registers its sessions here.
 *
 * <p>Threads. {@link #broadcast} runs on the broadcasting guest's worker: it queues the frame for each client of
 * the topic, and for a client that was idle it starts a write of its queue, which never blocks (asynchronous
 * sends). The container's completion of that write (a Tomcat thread, a Netty event loop) starts the next batch
 * with whatever was queued meanwhile. No thread ever waits for a client, so any number of stalled clients hold
 * no thread and cannot slow the others. One sweeper thread ({@code wasi-ws-sweeper}) checks the writes in
 * flight a few times per send time limit and aborts, once, each session whose write has waited longer.
 *
 * <p>Sessions per topic are copy-on-write arrays in a {@link ConcurrentHashMap}, replaced inside
 * {@code compute}; each session guards its own state (see {@link TopicSession}).
 *
 * <p>As a {@link SmartLifecycle} in the default phase it closes every session with 1001 (going away) when the
 * context stops, before the web server's graceful shutdown (which does not wait for WebSocket sessions): at once
 * for idle sessions, after the write in flight for busy ones, and by aborting those whose write has not ended
 * within {@value #SHUTDOWN_GRACE_MILLIS} ms, so that shutdown takes about that long however many clients stall.
 */
public class TopicFanOut implements WebSocketBroadcaster, SmartLifecycle, DisposableBean {

    static final Logger log = LoggerFactory.getLogger(TopicFanOut.class);

    /** Close code 1001: the server is going away. */
    static final int GOING_AWAY = 1001;
    /** Close code 1011: the server could not write. */
    static final int SERVER_ERROR = 1011;
    /** Close code 4500 (Spring's {@code SESSION_NOT_RELIABLE}): the client did not accept frames in time. */
    static final int STALLED = 4500;
    /** Longest shutdown waits for writes in flight before it aborts their sessions. */
    static final long SHUTDOWN_GRACE_MILLIS = 1000;

    private static final TopicSession[] NONE = new TopicSession[0];

    private final long sendBufferSize;
    private final Duration sendTimeLimit;
    private final ConcurrentHashMap<String, TopicSession[]> byTopic = new ConcurrentHashMap<>();
    private final Set<TopicSession> sessions = ConcurrentHashMap.newKeySet();
    private final Stats stats = new Stats();
    private final Object lifecycleLock = new Object();
    /** Notified when the last session closes, for {@link #stop()}. */
    private final Object allClosed = new Object();
    private @Nullable ScheduledExecutorService sweeper;
    private volatile boolean running;
    private volatile boolean stopped;

    /**
     * @param sendBufferSize most bytes held for one client (queued or being written); more are dropped for it
     * @param sendTimeLimit longest a write to one client may take before its session is closed as stalled
     */
    public TopicFanOut(long sendBufferSize, Duration sendTimeLimit) {
        if (sendBufferSize <= 0 || sendTimeLimit.isNegative() || sendTimeLimit.isZero()) {
            throw new IllegalArgumentException("sendBufferSize and sendTimeLimit must be positive");
        }
        this.sendBufferSize = sendBufferSize;
        this.sendTimeLimit = sendTimeLimit;
    }

    // ---- sessions (called by the stack adapters) -----------------------------------------------------------

    /**
     * Adds a client of {@code topic}; returns {@code null} when the endpoint is shutting down, in which case the
     * adapter closes the session with 1001.
     */
    @Nullable TopicSession open(String topic, ClientChannel channel) {
        if (stopped) {
            return null;
        }
        TopicSession session = new TopicSession(channel, topic, sendBufferSize, stats);
        sessions.add(session);
        byTopic.compute(topic, (t, arr) -> {
            TopicSession[] base = arr != null ? arr : NONE;
            TopicSession[] more = Arrays.copyOf(base, base.length + 1);
            more[base.length] = session;
            return more;
        });
        stats.opened.increment();
        log.debug("WebSocket session {} from {} subscribed to '{}'", channel.id(), channel.remoteAddress(), topic);
        return session;
    }

    /** The adapter saw the connection end. Idempotent. */
    void closed(TopicSession session, Object status) {
        session.closed();
        if (!sessions.remove(session)) {
            return;
        }
        byTopic.computeIfPresent(session.topic(), (t, arr) -> {
            int i = Arrays.asList(arr).indexOf(session);
            if (i < 0) {
                return arr;
            }
            if (arr.length == 1) {
                return null;
            }
            TopicSession[] left = new TopicSession[arr.length - 1];
            System.arraycopy(arr, 0, left, 0, i);
            System.arraycopy(arr, i + 1, left, i, arr.length - i - 1);
            return left;
        });
        stats.closed.increment();
        if (sessions.isEmpty()) {
            synchronized (allClosed) {
                allClosed.notifyAll();
            }
        }
        log.debug("WebSocket session {} of '{}' closed: {}", session.channel().id(), session.topic(), status);
    }

    /** A client sent a frame; the endpoint ignores it. */
    void inboundIgnored() {
        stats.inboundIgnored.increment();
    }

    // ---- broadcasting ---------------------------------------------------------------------------------------

    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        TopicSession[] clients = byTopic.get(topic);
        if (clients == null) {
            return;
        }
        for (TopicSession s : clients) {
            switch (s.offer(payload)) {
                case START -> s.startWriting();
                case DROPPED -> stats.dropped.increment();
                default -> { }
            }
        }
    }

    /** Aborts, once each, the sessions whose write has made no progress for longer than the send time limit. */
    void sweep() {
        long now = System.nanoTime();
        long limit = sendTimeLimit.toNanos();
        for (TopicSession s : sessions) {
            if (s.stalled(now, limit)) {
                stats.stalledClosed.increment();
                log.warn("WebSocket session {} of '{}' has not accepted its frames for {} ms (send-time-limit): closing it",
                        s.channel().id(), s.topic(), sendTimeLimit.toMillis());
                s.channel().abort(STALLED, "send time limit exceeded");
            }
        }
    }

    // ---- life cycle ------------------------------------------------------------------------------------------

    /** Starts the sweeper. Sessions may open before this (the web server starts in an earlier phase). */
    @Override
    public void start() {
        synchronized (lifecycleLock) {
            stopped = false;
            if (sweeper == null) {
                ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "wasi-ws-sweeper");
                    t.setDaemon(true);
                    return t;
                });
                long period = Math.max(10, Math.min(1000, sendTimeLimit.toMillis() / 10));
                s.scheduleWithFixedDelay(this::sweepQuietly, period, period, TimeUnit.MILLISECONDS);
                sweeper = s;
            }
            running = true;
        }
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            log.warn("WebSocket sweeper failed: {}", e.toString(), e);
        }
    }

    /**
     * Closes every session with 1001 (going away) and refuses new ones; returns once every session is closed,
     * or after about {@value #SHUTDOWN_GRACE_MILLIS} ms, having aborted the rest.
     */
    @Override
    public void stop() {
        synchronized (lifecycleLock) {
            running = false;
            stopped = true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_GRACE_MILLIS);
        List<TopicSession> all = new ArrayList<>(sessions);
        int closing = 0;
        for (TopicSession s : all) {
            long left = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            if (s.closeGoingAway(Math.min(left, 250))) {
                closing++;
            }
        }
        // busy sessions close when their write completes; wait for them, not longer than the grace period
        synchronized (allClosed) {
            long wait;
            while (!sessions.isEmpty() && (wait = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) > 0) {
                try {
                    allClosed.wait(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        List<TopicSession> left = new ArrayList<>(sessions);
        for (TopicSession s : left) {
            s.channel().abort(GOING_AWAY, "server shutting down");
        }
        if (closing > 0) {
            log.info("Closed {} WebSocket session(s) with 1001 (going away){}", closing - left.size(), left.isEmpty() ? ""
                    : "; aborted " + left.size() + " whose writes did not complete within " + SHUTDOWN_GRACE_MILLIS + " ms");
        }
        synchronized (lifecycleLock) {
            if (sweeper != null) {
                sweeper.shutdownNow();
                sweeper = null;
            }
        }
    }

    /** Releases the sweeper if the context closes without stopping. */
    @Override
    public void destroy() {
        synchronized (lifecycleLock) {
            if (sweeper != null) {
                sweeper.shutdownNow();
                sweeper = null;
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }

    // ---- inspection ------------------------------------------------------------------------------------------

    /** Open sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Topics with at least one open session, sorted. */
    public Set<String> topics() {
        return new TreeSet<>(byTopic.keySet());
    }

    /** Cumulative counters. */
    public Stats stats() {
        return stats;
    }

    /** The send time limit this fan-out enforces. */
    public Duration sendTimeLimit() {
        return sendTimeLimit;
    }

    /** Cumulative counters of the endpoint; readable from any thread. */
    public static final class Stats {
        final LongAdder opened = new LongAdder();
        final LongAdder closed = new LongAdder();
        final LongAdder sent = new LongAdder();
        final LongAdder dropped = new LongAdder();
        final LongAdder sendFailures = new LongAdder();
        final LongAdder stalledClosed = new LongAdder();
        final LongAdder inboundIgnored = new LongAdder();

        Stats() {}

        /** Sessions opened. */
        public long opened() {
            return opened.sum();
        }

        /** Sessions closed, for whatever reason. */
        public long closed() {
            return closed.sum();
        }

        /** Frames handed to the network for a client. */
        public long framesSent() {
            return sent.sum();
        }

        /** Frames dropped for a client whose send buffer was full. */
        public long framesDropped() {
            return dropped.sum();
        }

        /** Writes that failed (the session is then closed). */
        public long sendFailures() {
            return sendFailures.sum();
        }

        /** Sessions closed because a write waited longer than the send time limit. */
        public long stalledClosed() {
            return stalledClosed.sum();
        }

        /** Frames clients sent, which the endpoint ignores. */
        public long inboundIgnored() {
            return inboundIgnored.sum();
        }
    }
}
