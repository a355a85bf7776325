package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.WebSocketBroadcaster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

/**
 * The fan-out behind {@code /ws?topic=NAME}, whatever the web stack: the open sessions by topic, each topic's
 * bounded history with offsets, each client's bounded queue, the time limit, the counters, and the
 * {@link WebSocketBroadcaster} every guest's {@code ws_broadcast} reaches. A thin adapter per web stack
 * ({@link TopicWebSocketHandler} for Spring MVC, {@link ReactiveTopicWebSocketHandler} for WebFlux) registers its
 * sessions here.
 *
 * <p>Where frames come from. On one node (the default) each broadcast gets the next offset of its topic and goes
 * into the topic's history and to its clients at once. In a cluster ({@link #feedFrom}) the fan-out ignores
 * broadcasts (the cluster relay sends them to the cluster's stream) and gets every topic its clients follow from
 * the {@link FanOutFeed}, in the stream's order, with the stream's offsets: this node's own broadcasts too, so
 * that every node sees one order per topic.
 *
 * <p>Replay. A client connecting with {@code since=OFFSET} first gets the frames after it from the history, then
 * the live ones, with no gap and no duplicate (both happen under the topic's monitor); an offset the history cannot
 * resume gets a reset notice (offsets format, see {@link WireFormat}) and live frames.
 *
 * <p>Threads. {@link #broadcast} runs on the broadcasting guest's worker, {@link #deliver} on the feed's reader:
 * both queue the frame for each client of the topic, and for a client that was idle start a write of its queue,
 * which never blocks (asynchronous sends). The container's completion of that write (a Tomcat thread, a Netty
 * event loop) starts the next batch with whatever was queued meanwhile. No thread ever waits for a client, so any
 * number of stalled clients hold no thread and cannot slow the others. One sweeper thread ({@code wasi-ws-sweeper})
 * checks the writes in flight a few times per send time limit and aborts, once, each session whose write has
 * waited longer.
 *
 * <p>Topics are {@link FanOutTopic}s in a {@link ConcurrentHashMap}, each guarded by its own monitor; each session
 * guards its own state (see {@link TopicSession}); a topic's monitor may be held while a session's is taken, never
 * the other way round. On one node a topic stays (with its history) once something was broadcast to it; a topic
 * only clients asked for goes with its last client.
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

    /** History size of the two-argument constructor (and the property's default). */
    public static final int DEFAULT_HISTORY_SIZE = 100;

    private final long sendBufferSize;
    private final Duration sendTimeLimit;
    private final int historySize;
    /** This node's epoch: the offsets of one run of the application (one node). */
    private final String epoch = TopicOffset.newEpoch();
    private final ConcurrentHashMap<String, FanOutTopic> topics = new ConcurrentHashMap<>();
    private final AtomicLong generations = new AtomicLong();
    private final Set<TopicSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile @Nullable FanOutFeed feed;
    private final Stats stats = new Stats();
    private final Object lifecycleLock = new Object();
    /** Notified when the last session closes, for {@link #stop()}. */
    private final Object allClosed = new Object();
    private @Nullable ScheduledExecutorService sweeper;
    private volatile boolean running;
    private volatile boolean stopped;

    /**
     * A fan-out keeping the last {@value #DEFAULT_HISTORY_SIZE} frames of each topic.
     *
     * @param sendBufferSize most bytes held for one client (queued or being written); more are dropped for it
     * @param sendTimeLimit longest a write to one client may take before its session is closed as stalled
     */
    public TopicFanOut(long sendBufferSize, Duration sendTimeLimit) {
        this(sendBufferSize, sendTimeLimit, DEFAULT_HISTORY_SIZE);
    }

    /**
     * @param sendBufferSize most bytes held for one client (queued or being written); more are dropped for it
     * @param sendTimeLimit longest a write to one client may take before its session is closed as stalled
     * @param historySize most frames kept per topic for clients that resume ({@code since}); 0 keeps none
     */
    public TopicFanOut(long sendBufferSize, Duration sendTimeLimit, int historySize) {
        if (sendBufferSize <= 0 || sendTimeLimit.isNegative() || sendTimeLimit.isZero()) {
            throw new IllegalArgumentException("sendBufferSize and sendTimeLimit must be positive");
        }
        if (historySize < 0) {
            throw new IllegalArgumentException("historySize must not be negative");
        }
        this.sendBufferSize = sendBufferSize;
        this.sendTimeLimit = sendTimeLimit;
        this.historySize = historySize;
    }

    /**
     * Takes frames from {@code feed} (a cluster) instead of this node's broadcasts, from now on. Call it before the
     * first session opens.
     */
    public void feedFrom(FanOutFeed feed) {
        if (this.feed != null || !sessions.isEmpty()) {
            throw new IllegalStateException("the fan-out already has a feed or sessions");
        }
        this.feed = feed;
    }

    /** Whether frames come from a {@link FanOutFeed}. */
    public boolean fed() {
        return feed != null;
    }

    // ---- sessions (called by the stack adapters) -----------------------------------------------------------

    /** Adds a raw-format client of {@code topic} that does not resume; see {@link #open(String, ClientChannel, String, boolean)}. */
    @Nullable TopicSession open(String topic, ClientChannel channel) {
        return open(topic, channel, null, false);
    }

    /**
     * Adds a client of {@code topic}: queues what it missed after {@code since} (and, in the offsets format, the
     * live or reset notice), then it gets the topic's frames live. Returns {@code null} when the endpoint is shutting
     * down, in which case the adapter closes the session with 1001. In a cluster a client of a topic this node does
     * not read yet waits (connected, nothing sent) until the feed has loaded the topic.
     *
     * @param since the offset token the client resumes after ({@code ?since=}), or {@code null}
     * @param offsets whether the client gets the offsets format
     */
    @Nullable TopicSession open(String topic, ClientChannel channel, @Nullable String since, boolean offsets) {
        if (stopped) {
            return null;
        }
        TopicSession session = new TopicSession(channel, topic, sendBufferSize, stats, offsets);
        sessions.add(session);
        boolean created = false;
        while (true) {
            FanOutTopic t = topics.get(topic);
            if (t == null) {
                FanOutTopic fresh = newTopic(topic);
                t = topics.computeIfAbsent(topic, n -> fresh);
                created |= t == fresh;
            }
            synchronized (t) {
                if (t.removed) {
                    continue;
                }
                if (t.history == null) {
                    t.waiting.add(new FanOutTopic.Waiting(session, since));
                } else {
                    join(t, t.history, session, since);
                }
            }
            break;
        }
        stats.opened.increment();
        FanOutFeed f = feed;
        if (created && f != null) {
            f.followedTopicsChanged();
        }
        if (session.claimStart()) {
            session.startWriting();
        }
        log.debug("WebSocket session {} from {} subscribed to '{}'{}{}", channel.id(), channel.remoteAddress(), topic,
                offsets ? " (offsets format)" : "", since != null ? " since " + since : "");
        return session;
    }

    /** A new topic: on one node with an empty history, in a cluster without one until the feed loads it. */
    private FanOutTopic newTopic(String name) {
        return new FanOutTopic(name, generations.incrementAndGet(), feed == null ? new TopicHistory(historySize, epoch) : null);
    }

    /** Queues what {@code session} missed and its notice, then adds it to the topic's clients. Holds {@code t}. */
    private void join(FanOutTopic t, TopicHistory history, TopicSession session, @Nullable String since) {
        TopicHistory.Replay replay = history.replay(since, feed != null);
        List<WireFrame> frames = new ArrayList<>(replay.missed().size() + 1);
        for (TopicHistory.Entry e : replay.missed()) {
            frames.add(e.frame(session.offsets()));
        }
        if (session.offsets()) {
            frames.add(replay.outcome() == TopicHistory.Replay.Outcome.RESET
                    ? WireFormat.reset(t.name, replay.position(), String.valueOf(replay.reason()), since)
                    : WireFormat.live(t.name, replay.position(), replay.missed().size()));
        }
        switch (replay.outcome()) {
            case RECOVERED -> stats.recovered.increment();
            case RESET -> {
                stats.reset.increment();
                log.debug("WebSocket session {} of '{}' cannot resume after {} ({}): live after {}",
                        session.channel().id(), t.name, since, replay.reason(), replay.position());
            }
            default -> { }
        }
        session.offerAll(frames);
        session.skipThrough(replay.skipThrough());
        t.add(session);
    }

    /** The adapter saw the connection end. Idempotent. */
    void closed(TopicSession session, Object status) {
        session.closed();
        if (!sessions.remove(session)) {
            return;
        }
        FanOutTopic t = topics.get(session.topic());
        boolean gone = false;
        if (t != null) {
            synchronized (t) {
                t.remove(session);
                TopicHistory h = t.history;
                // one node keeps a topic something was broadcast to, for its history; a cluster reads the stream anew
                if (!t.hasClients() && (feed != null || h == null || !h.started())) {
                    t.removed = true;
                    gone = true;
                }
            }
        }
        if (gone) {
            topics.remove(session.topic(), t);
            FanOutFeed f = feed;
            if (f != null) {
                f.followedTopicsChanged();
            }
        }
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

    /**
     * A guest's {@code ws_broadcast}: on one node the frame gets its topic's next offset and goes to the history and
     * the clients; with a feed (a cluster) it is ignored here, the cluster relay sends it to the stream.
     */
    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        if (feed != null) {
            return;
        }
        while (true) {
            FanOutTopic t = topics.get(topic);
            if (t == null) {
                FanOutTopic fresh = newTopic(topic);
                t = topics.computeIfAbsent(topic, n -> fresh);
            }
            if (publish(t, null, payload)) {
                return;
            }
        }
    }

    /**
     * A frame of a followed topic from the feed, in the stream's order. A frame not after the last one of the topic
     * (already seen), of a topic not followed or not loaded, or of another epoch than the loaded one (the feed then
     * loads the topic anew) is ignored.
     *
     * @return whether the frame went to the topic's history and clients
     */
    public boolean deliver(String topic, TopicOffset offset, byte[] payload) {
        FanOutTopic t = topics.get(topic);
        return t != null && publish(t, offset, payload);
    }

    /**
     * Records the frame in {@code t}'s history (with the next offset when {@code offset} is null) and queues it for
     * every client; false when {@code t} was removed meanwhile or the frame is not taken.
     */
    private boolean publish(FanOutTopic t, @Nullable TopicOffset offset, byte[] payload) {
        TopicSession[] start = null;
        int starts = 0;
        List<TopicSession> lagging = null;
        synchronized (t) {
            TopicHistory h = t.history;
            if (t.removed || h == null) {
                return false;
            }
            TopicHistory.Entry e;
            if (offset == null) {
                e = h.next(payload);
            } else if (!offset.epoch().equals(h.epoch())) {
                return false;
            } else {
                e = h.append(offset, payload);
                if (e == null) {
                    return false;
                }
            }
            for (TopicSession s : t.sessions) {
                if (offset != null && s.skips(e.offset())) {
                    continue;
                }
                switch (s.offer(e.frame(s.offsets()))) {
                    case START -> {
                        if (start == null) {
                            start = new TopicSession[t.sessions.length];
                        }
                        start[starts++] = s;
                    }
                    case DROPPED -> stats.dropped.increment();
                    case LAGGING -> {
                        if (lagging == null) {
                            lagging = new ArrayList<>();
                        }
                        lagging.add(s);
                    }
                    default -> { }
                }
            }
        }
        for (int i = 0; start != null && i < starts; i++) {
            start[i].startWriting();
        }
        if (lagging != null) {
            for (TopicSession s : lagging) {
                if (s.closeAfterWrite(WireFormat.LAGGING, "behind: reconnect with since", sendTimeLimit.toMillis())) {
                    stats.lagging.increment();
                    log.info("WebSocket session {} of '{}' fell behind by more than its send buffer: closed with {} so"
                            + " that it resumes from the history", s.channel().id(), s.topic(), WireFormat.LAGGING);
                }
            }
        }
        return true;
    }

    // ---- a cluster's feed ----------------------------------------------------------------------------------

    /** The topics this node's clients follow, each with its generation (a topic followed anew has a new one). */
    public Map<String, Long> followedTopics() {
        Map<String, Long> followed = new HashMap<>();
        for (FanOutTopic t : topics.values()) {
            followed.put(t.name, t.generation);
        }
        return followed;
    }

    /**
     * Loads a followed topic's history from its stream: {@code frames} are the stream's latest, oldest first, and
     * frames up to {@code floor} may be gone from the stream. The topic's waiting clients then get what they missed
     * and go live; a topic loaded anew (its epoch changed) keeps its clients.
     *
     * @param generation the generation {@link #followedTopics()} gave: a load for a topic followed anew since is
     *     ignored
     * @return whether the topic took it
     */
    public boolean load(String topic, long generation, String epoch, TopicOffset floor, List<FeedFrame> frames) {
        FanOutTopic t = topics.get(topic);
        if (t == null || t.generation != generation) {
            return false;
        }
        List<TopicHistory.Entry> entries = new ArrayList<>(frames.size());
        for (FeedFrame f : frames) {
            entries.add(new TopicHistory.Entry(f.offset(), f.payload()));
        }
        List<TopicSession> joined = new ArrayList<>();
        synchronized (t) {
            if (t.removed) {
                return false;
            }
            TopicHistory h = TopicHistory.loaded(historySize, epoch, floor, entries);
            t.history = h;
            for (TopicSession s : t.sessions) {
                s.skipThrough(null); // offsets of an earlier epoch
            }
            for (FanOutTopic.Waiting w : t.waiting) {
                join(t, h, w.session(), w.since());
                joined.add(w.session());
            }
            t.waiting.clear();
        }
        for (TopicSession s : joined) {
            if (s.claimStart()) {
                s.startWriting();
            }
        }
        return true;
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
        Set<String> names = new TreeSet<>();
        for (FanOutTopic t : topics.values()) {
            synchronized (t) {
                if (t.hasClients()) {
                    names.add(t.name);
                }
            }
        }
        return names;
    }

    /**
     * Whether clients of {@code topic} get its frames: on one node always; in a cluster once this node reads the
     * topic (its first client waits until then).
     */
    public boolean live(String topic) {
        if (feed == null) {
            return true;
        }
        FanOutTopic t = topics.get(topic);
        if (t == null) {
            return false;
        }
        synchronized (t) {
            return t.history != null && !t.removed;
        }
    }

    /** The offset of the last frame of {@code topic} here, or {@code null} when there is none. */
    public @Nullable TopicOffset lastOffset(String topic) {
        FanOutTopic t = topics.get(topic);
        if (t == null) {
            return null;
        }
        synchronized (t) {
            TopicHistory h = t.history;
            return h == null || !h.started() ? null : h.last();
        }
    }

    /** Most frames kept per topic. */
    public int historySize() {
        return historySize;
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
        final LongAdder recovered = new LongAdder();
        final LongAdder reset = new LongAdder();
        final LongAdder lagging = new LongAdder();

        Stats() {}

        /** Clients that resumed after their {@code since} offset (what they missed was replayed). */
        public long replaysRecovered() {
            return recovered.sum();
        }

        /** Clients whose {@code since} offset could not be resumed (they got a reset notice). */
        public long replaysReset() {
            return reset.sum();
        }

        /** Clients in the offsets format closed because they fell behind by more than their send buffer. */
        public long laggingClosed() {
            return lagging.sum();
        }

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
