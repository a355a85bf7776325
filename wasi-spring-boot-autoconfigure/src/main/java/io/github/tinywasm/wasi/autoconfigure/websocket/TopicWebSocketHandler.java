package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.WebSocketBroadcaster;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.adapter.NativeWebSocketSession;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;

/**
 * The {@code /ws?topic=NAME} endpoint: every {@code ws_broadcast(topic, payload)} of a guest goes to every
 * client connected with that topic as one binary frame, in broadcast order.
 *
 * <p>Threads: {@link #broadcast} runs on the guest's mailbox worker and only enqueues into each client's
 * {@link TopicSession} (bounded by {@code sendBufferSize}; a full queue drops the frame for that client and
 * counts it). A client that was idle is handed to the sender pool ({@code wasi-ws-send-N}), whose threads
 * write its frames with the container's blocking send, {@code FRAMES_PER_TURN} at a time; the guest is never
 * held up by fan-out. A client that stops reading holds the one sender thread writing to it: the sweeper
 * ({@code wasi-ws-sweeper}, every 25 ms) counts such pinned threads and grows the pool by as many (up to
 * {@value #MAX_EXTRA_SENDERS} more), so healthy clients keep their threads, and closes a session whose frame
 * has waited longer than {@code sendTimeLimit}, which frees its thread. (Blocking sends on a pool measured
 * 1.5-2.5x faster than the container's asynchronous sends, whose per-frame completion hand-off dominates.)
 * Sessions per topic are copy-on-write arrays in a {@link ConcurrentHashMap}.
 *
 * <p>As a {@link SmartLifecycle} in the default phase it closes every session with 1001 (going away) when the
 * context stops, before the web server's graceful shutdown, which does not wait for WebSocket sessions.
 * Clients are not expected to send anything: their frames are ignored and counted.
 */
public class TopicWebSocketHandler extends AbstractWebSocketHandler
        implements WebSocketBroadcaster, SmartLifecycle, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(TopicWebSocketHandler.class);
    private static final TopicSession[] NONE = new TopicSession[0];
    /** Most sender threads added while clients hold threads with stalled writes. */
    static final int MAX_EXTRA_SENDERS = 64;
    /** A write taking longer than this counts as pinning its thread. */
    private static final long PINNED_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final long sendBufferSize;
    private final Duration sendTimeLimit;
    private final int maxInboundMessageSize;
    private final ConcurrentHashMap<String, TopicSession[]> byTopic = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, TopicSession> byId = new ConcurrentHashMap<>();
    private final Stats stats = new Stats();
    private final ScheduledExecutorService sweeper;
    private final ThreadPoolExecutor senders;
    private final int baseSenders;
    private volatile boolean running;

    public TopicWebSocketHandler(long sendBufferSize, Duration sendTimeLimit, int maxInboundMessageSize) {
        this.sendBufferSize = sendBufferSize;
        this.sendTimeLimit = sendTimeLimit;
        this.maxInboundMessageSize = maxInboundMessageSize;
        AtomicInteger threads = new AtomicInteger();
        this.baseSenders = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.senders = new ThreadPoolExecutor(baseSenders, baseSenders, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> daemon(r, "wasi-ws-send-" + threads.incrementAndGet()));
        this.senders.allowCoreThreadTimeOut(true);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "wasi-ws-sweeper"));
        this.sweeper.scheduleWithFixedDelay(this::sweep, 25, 25, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ---- connections ------------------------------------------------------------------------------------------

    @Override
    public void afterConnectionEstablished(WebSocketSession session) throws IOException {
        String topic = (String) session.getAttributes().get(TopicHandshakeInterceptor.TOPIC_ATTRIBUTE);
        jakarta.websocket.Session nativeSession = session instanceof NativeWebSocketSession n
                ? n.getNativeSession(jakarta.websocket.Session.class) : null;
        if (topic == null || nativeSession == null) {
            log.error("WebSocket session {} has no topic or no JSR-356 session; closing it (is the handler mapped"
                    + " through TopicHandshakeInterceptor on a servlet container?)", session.getId());
            session.close(CloseStatus.SERVER_ERROR);
            return;
        }
        // Tomcat's own limit on one blocking write, so a stalled write ends even if closing it stalls too.
        nativeSession.getUserProperties().put("org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT", sendTimeLimit.toMillis());
        session.setBinaryMessageSizeLimit(maxInboundMessageSize);
        session.setTextMessageSizeLimit(maxInboundMessageSize);
        TopicSession ts = new TopicSession(session, nativeSession, topic, sendBufferSize, stats);
        byId.put(session.getId(), ts);
        byTopic.compute(topic, (t, arr) -> {
            TopicSession[] base = arr != null ? arr : NONE;
            TopicSession[] more = Arrays.copyOf(base, base.length + 1);
            more[base.length] = ts;
            return more;
        });
        stats.opened.increment();
        log.debug("WebSocket session {} from {} subscribed to '{}'", session.getId(), session.getRemoteAddress(), topic);
    }

    @Override
    public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
        TopicSession ts = byId.remove(session.getId());
        if (ts == null) {
            return;
        }
        ts.close();
        byTopic.computeIfPresent(ts.topic(), (t, arr) -> {
            TopicSession[] left = Arrays.stream(arr).filter(s -> s != ts).toArray(TopicSession[]::new);
            return left.length == 0 ? null : left;
        });
        stats.closed.increment();
        log.debug("WebSocket session {} of '{}' closed: {}", session.getId(), ts.topic(), status);
    }

    @Override
    public void handleTransportError(WebSocketSession session, Throwable exception) {
        log.debug("WebSocket session {} transport error: {}", session.getId(), exception.toString());
    }

    @Override
    protected void handleTextMessage(WebSocketSession session, TextMessage message) {
        stats.inboundIgnored.increment();
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) {
        stats.inboundIgnored.increment();
    }

    @Override
    protected void handlePongMessage(WebSocketSession session, PongMessage message) {
    }

    // ---- broadcasting -----------------------------------------------------------------------------------------

    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        TopicSession[] sessions = byTopic.get(topic);
        if (sessions == null) {
            return;
        }
        for (TopicSession s : sessions) {
            switch (s.offer(payload)) {
                case START -> startSending(s);
                case DROPPED -> stats.dropped.increment();
                default -> { }
            }
        }
    }

    private void startSending(TopicSession s) {
        try {
            senders.execute(() -> send(s));
        } catch (RejectedExecutionException e) {
            s.close(); // the context is closing: nobody is connected any more
        }
    }

    private void send(TopicSession s) {
        if (s.pump()) {
            startSending(s); // more to write: take turns with the other sessions
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        long limit = sendTimeLimit.toNanos();
        int pinned = 0;
        for (TopicSession s : byId.values()) {
            long stalled = s.stalledFor(now);
            if (stalled > limit) {
                log.warn("WebSocket session {} of '{}' has not accepted a frame for {} ms (send-time-limit): closing it",
                        s.session().getId(), s.topic(), sendTimeLimit.toMillis());
                stats.stalledClosed.increment();
                s.close();
                // closing may wait for the stalled write: never on the sweeper
                Thread closer = new Thread(() -> closeQuietly(s.session(), CloseStatus.SESSION_NOT_RELIABLE), "wasi-ws-close");
                closer.setDaemon(true);
                closer.start();
            } else if (stalled > PINNED_NANOS) {
                pinned++;
            }
        }
        ThreadPoolExecutor pool = senders;
        int size = baseSenders + Math.min(pinned, MAX_EXTRA_SENDERS);
        if (pool.getCorePoolSize() != size) {
            if (size > pool.getMaximumPoolSize()) {
                pool.setMaximumPoolSize(size);
                pool.setCorePoolSize(size);
            } else {
                pool.setCorePoolSize(size);
                pool.setMaximumPoolSize(size);
            }
        }
    }

    private static void closeQuietly(WebSocketSession session, CloseStatus status) {
        try {
            session.close(status);
        } catch (IOException | RuntimeException e) {
            log.debug("closing WebSocket session {}: {}", session.getId(), e.toString());
        }
    }

    // ---- life cycle ------------------------------------------------------------------------------------------

    /**
     * Marks the endpoint running. Its threads exist from construction, because the web server (an earlier
     * phase) may accept sessions before this runs.
     */
    @Override
    public void start() {
        running = true;
    }

    /** Closes every session with 1001 (going away), before the web server's graceful shutdown. */
    @Override
    public void stop() {
        running = false;
        List<TopicSession> all = new ArrayList<>(byId.values());
        for (TopicSession s : all) {
            s.close();
            closeQuietly(s.session(), CloseStatus.GOING_AWAY);
        }
        if (!all.isEmpty()) {
            log.info("Closed {} WebSocket session(s) with 1001 (going away)", all.size());
        }
    }

    /** Releases the sender and sweeper threads when the context closes. */
    @Override
    public void destroy() {
        sweeper.shutdownNow();
        senders.shutdown();
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
        return byId.size();
    }

    /** Topics with at least one open session, sorted. */
    public Set<String> topics() {
        return new TreeSet<>(byTopic.keySet());
    }

    public Stats stats() {
        return stats;
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

        void sent() {
            sent.increment();
        }

        void sendFailed() {
            sendFailures.increment();
        }

        public long opened() { return opened.sum(); }
        public long closed() { return closed.sum(); }
        /** Frames written to clients. */
        public long framesSent() { return sent.sum(); }
        /** Frames dropped for a client whose send buffer was full. */
        public long framesDropped() { return dropped.sum(); }
        public long sendFailures() { return sendFailures.sum(); }
        /** Sessions closed because a frame waited longer than the send time limit. */
        public long stalledClosed() { return stalledClosed.sum(); }
        /** Frames clients sent, which the endpoint ignores. */
        public long inboundIgnored() { return inboundIgnored.sum(); }
    }
}
