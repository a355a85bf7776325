package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.github.tinywasm.wasi.autoconfigure.WasiServerLifecycle;
import io.github.tinywasm.wasi.autoconfigure.websocket.FanOutFeed;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicOffset;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.UnblockType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * This node in a cluster over Redis Streams: every guest's {@code ws_broadcast} goes to its topic's stream (through
 * the bounded {@link ClusterOutbox}), this node's WebSocket fan-out is fed from the streams of the topics its clients
 * follow (its own broadcasts included, so that every node sees one order per topic), and the bus topics of
 * {@code cluster.topics} cross nodes through the bus stream ({@link BusBridge}).
 *
 * <p>Redis unreachable: the modules keep serving; what goes to the cluster waits in the outbox (beyond its capacity
 * it is dropped and counted) and goes out in order when Redis answers again; the reader goes on from the last entry
 * id it read. This node's clients get no frame meanwhile (frames reach them through Redis). Log lines say when Redis
 * went away and came back, and what waits.
 *
 * <p>Threads: {@code wasi-cluster-publisher} ({@link StreamPublisher}, its connection), {@code wasi-cluster-reader}
 * ({@link StreamReader}, its connection: its blocking reads never hold up the publisher), and
 * {@code wasi-cluster-watch} (connection state every 250 ms, log lines, lag every 2 s). The connections come from the
 * Lettuce client of Spring Boot's Redis connection factory ({@code spring.data.redis.*}) and reconnect by themselves
 * after an outage; {@link #connections} guards creating them.
 *
 * <p>A {@link SmartLifecycle} in phase {@link #PHASE}, before the WASI server's: it starts before the modules (their
 * first broadcasts wait in the outbox) and stops after they drained, flushing the outbox for up to
 * {@value #FLUSH_MILLIS} ms.
 */
public class ClusterNode implements WebSocketBroadcaster, FanOutFeed, ClusterView, SmartLifecycle {

    /** Phase: just before the WASI server starts, just after it stopped. */
    public static final int PHASE = WasiServerLifecycle.PHASE - 512;
    /** Longest stop waits for the outbox to go out. */
    static final long FLUSH_MILLIS = 2000;
    /** Fewest entries a topic stream keeps (MAXLEN ~), whatever the history: slack for nodes reading behind. */
    static final int MIN_STREAM_LENGTH = 1000;

    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

    private final String id;
    private final String prefix;
    private final Supplier<RedisClient> redis;
    private @Nullable RedisClient client;
    private final Duration commandTimeout;
    private final int historySize;
    private final int busStreamLength;
    private final TopicPatterns busTopics;
    private final List<String> busTopicPatterns;
    private final ClusterOutbox outbox;
    private final ClusterStats stats = new ClusterStats();
    private final Supplier<@Nullable TopicFanOut> fanOuts;
    private final Supplier<@Nullable WasiServer> servers;
    private final Map<String, StreamRef> topicStreams = new ConcurrentHashMap<>();
    private final StreamRef busStream;
    private final Object connections = new Object();
    private final Object lifecycle = new Object();
    private volatile String origin;
    private volatile @Nullable StatefulRedisConnection<byte[], byte[]> publisherConnection;
    private volatile @Nullable StatefulRedisConnection<byte[], byte[]> readerConnection;
    private volatile boolean running;
    private volatile boolean flushing;
    private volatile boolean connected;
    private volatile Instant since = Instant.now();
    private volatile long lastOutboxWarning;
    /** Whether the first connection state was told (watch thread only). */
    private boolean announced;
    /** The last 2-second slot the lag was checked in (watch thread only). */
    private long lastLagCheck;
    private volatile long startedAt = System.nanoTime();
    private volatile boolean connectFailed;
    private @Nullable StreamPublisher publisher;
    private @Nullable StreamReader reader;
    private @Nullable BusBridge bus;
    private @Nullable Thread publisherThread;
    private @Nullable Thread readerThread;
    private @Nullable ScheduledExecutorService watch;

    /**
     * @param id this node's id, or {@code null}/empty for the host name and process id
     * @param keyPrefix prefix of the cluster's Redis keys
     * @param redis gives the Lettuce client (Spring Boot's, with its connection settings) when the node starts
     * @param commandTimeout how long a Redis command may take
     * @param historySize the history of each topic (and the least its stream keeps)
     * @param busStreamLength most entries of the bus stream
     * @param busTopics the bus topics that cross nodes
     * @param outboxCapacity most entries waiting to go out
     * @param fanOut gives, when the node starts, this node's WebSocket fan-out (fed from the streams), or {@code null}
     *     (no web stack)
     * @param server gives, when the node starts, the WASI server (for the bus topics)
     */
    public ClusterNode(@Nullable String id, String keyPrefix, Supplier<RedisClient> redis, Duration commandTimeout,
            int historySize, int busStreamLength, List<String> busTopics, int outboxCapacity,
            Supplier<@Nullable TopicFanOut> fanOut, Supplier<@Nullable WasiServer> server) {
        this.id = id == null || id.isEmpty() ? defaultId() : id;
        this.prefix = keyPrefix;
        this.redis = redis;
        this.commandTimeout = commandTimeout;
        this.historySize = historySize;
        this.busStreamLength = busStreamLength;
        this.busTopics = TopicPatterns.of(busTopics);
        this.busTopicPatterns = List.copyOf(busTopics);
        this.outbox = new ClusterOutbox(outboxCapacity);
        this.fanOuts = fanOut;
        this.servers = server;
        this.busStream = StreamRef.bus(keyPrefix);
        this.origin = newOrigin();
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "node";
        }
        return (host + ":" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9._:-]", "-");
    }

    // ---- what the node sends --------------------------------------------------------------------------------

    /** A guest's {@code ws_broadcast}: to its topic's stream, through the outbox. Never blocks. */
    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        byte[][] fields = {"p".getBytes(StandardCharsets.US_ASCII), payload};
        if (!outbox.offer(new ClusterOutbox.Entry(topicStream(topic), fields))) {
            outboxFull();
        }
    }

    /** Says, at most every 10 s, that the outbox is full and drops. */
    void outboxFull() {
        long now = System.nanoTime();
        if (now - lastOutboxWarning > TimeUnit.SECONDS.toNanos(10)) {
            lastOutboxWarning = now;
            log.warn("[cluster {}] outbox full ({} entries): dropping what goes to the cluster ({} dropped so far){}", id,
                    outbox.capacity(), outbox.dropped(), connected ? "" : "; Redis is unreachable");
        }
    }

    // ---- the fan-out's feed -----------------------------------------------------------------------------------

    @Override
    public void followedTopicsChanged() {
        StreamReader r = reader;
        if (r != null) {
            r.followedTopicsChanged();
        }
    }

    /** Cuts the reader's blocking read short (it then reconciles what it follows). Does not block. */
    void unblockReader() {
        StreamReader r = reader;
        StatefulRedisConnection<byte[], byte[]> c = publisherConnection;
        if (r != null && c != null && r.clientId() >= 0 && connected) {
            c.async().clientUnblock(r.clientId(), UnblockType.TIMEOUT);
        }
    }

    // ---- life cycle ---------------------------------------------------------------------------------------------

    @Override
    public void start() {
        synchronized (lifecycle) {
            if (running) {
                return;
            }
            client = redis.get();
            startedAt = System.nanoTime();
            running = true;
            flushing = true;
            WasiServer server = busTopics.isEmpty() ? null : servers.get();
            if (server != null) {
                bus = new BusBridge(this, server, busTopics, outbox);
            }
            TopicFanOut fanOut = fanOuts.get();
            publisher = new StreamPublisher(this, outbox, stats, () -> flushing);
            reader = new StreamReader(this, fanOut, bus, stats, () -> running, historySize);
            publisherThread = thread("wasi-cluster-publisher", publisher);
            readerThread = thread("wasi-cluster-reader", reader);
            ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> daemon("wasi-cluster-watch", r));
            w.scheduleWithFixedDelay(this::watch, 0, 250, TimeUnit.MILLISECONDS);
            watch = w;
            if (bus != null) {
                bus.start();
            }
            log.info("[cluster {}] joining the cluster '{}' on Redis{}", id, prefix,
                    busTopics.isEmpty() ? "" : "; bus topics crossing nodes: " + busTopicPatterns);
        }
    }

    private static Thread thread(String name, Runnable task) {
        Thread t = daemon(name, task);
        t.start();
        return t;
    }

    private static Thread daemon(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Stops reading, sends what waits in the outbox (for up to {@value #FLUSH_MILLIS} ms, if Redis answers), drops and
     * counts the rest, and closes the connections.
     */
    @Override
    public void stop() {
        synchronized (lifecycle) {
            if (!running) {
                return;
            }
            running = false;
            ScheduledExecutorService w = watch;
            if (w != null) {
                w.shutdownNow(); // no log line about connections this stop closes
            }
            if (bus != null) {
                bus.stop();
            }
            synchronized (connections) {
                StatefulRedisConnection<byte[], byte[]> r = readerConnection;
                readerConnection = null;
                if (r != null) {
                    r.close(); // ends a blocking read
                }
            }
            join(readerThread, 2000);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FLUSH_MILLIS);
            StatefulRedisConnection<byte[], byte[]> p = publisherConnection;
            while (p != null && p.isOpen() && waiting() > 0 && System.nanoTime() < deadline) {
                sleep(10);
            }
            flushing = false;
            int left = outbox.close() + (publisher != null ? publisher.inFlight() : 0);
            join(publisherThread, 2000);
            closeConnections();
            if (left > 0) {
                log.warn("[cluster {}] left the cluster with {} entries that did not reach Redis (dropped)", id, left);
            } else {
                log.info("[cluster {}] left the cluster", id);
            }
        }
    }

    private static void join(@Nullable Thread t, long millis) {
        if (t != null) {
            try {
                t.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeConnections() {
        synchronized (connections) {
            for (StatefulRedisConnection<byte[], byte[]> c : new StatefulRedisConnection[] {publisherConnection, readerConnection}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (RuntimeException e) {
                        log.debug("[cluster {}] closing a connection: {}", id, e.toString());
                    }
                }
            }
            publisherConnection = null;
            readerConnection = null;
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    // ---- connections and state -----------------------------------------------------------------------------

    /** The publisher's connection, connecting it if needed; {@code null} when Redis cannot be reached now. */
    @Nullable StatefulRedisConnection<byte[], byte[]> publisherConnection() {
        StatefulRedisConnection<byte[], byte[]> c = publisherConnection;
        if (c != null) {
            return c;
        }
        synchronized (connections) {
            if (publisherConnection == null && flushing) {
                publisherConnection = connect("publisher");
                if (publisherConnection != null) {
                    publisherConnection.async().scriptLoad(AppendScript.SOURCE);
                }
            }
            return publisherConnection;
        }
    }

    /** The reader's connection, connecting it if needed; {@code null} when Redis cannot be reached now. */
    @Nullable StatefulRedisConnection<byte[], byte[]> readerConnection() {
        StatefulRedisConnection<byte[], byte[]> c = readerConnection;
        if (c != null) {
            return c;
        }
        synchronized (connections) {
            if (readerConnection == null && running) {
                readerConnection = connect("reader");
            }
            return readerConnection;
        }
    }

    private @Nullable StatefulRedisConnection<byte[], byte[]> connect(String role) {
        RedisClient redisClient = client;
        if (redisClient == null) {
            return null;
        }
        try {
            StatefulRedisConnection<byte[], byte[]> c = redisClient.connect(ByteArrayCodec.INSTANCE);
            c.setTimeout(commandTimeout);
            return c;
        } catch (RuntimeException e) {
            connectFailed = true;
            log.debug("[cluster {}] cannot connect the {} to Redis: {}", id, role, e.toString());
            return null;
        }
    }

    /** Every 250 ms: connection state (and its log lines); every 2 s: lag. */
    private void watch() {
        try {
            StatefulRedisConnection<byte[], byte[]> p = publisherConnection;
            StatefulRedisConnection<byte[], byte[]> r = readerConnection;
            boolean now = p != null && r != null && p.isOpen() && r.isOpen();
            if (!announced) {
                // the first state: connected, or a connection attempt failed (or none succeeded within 10 s)
                if (now) {
                    announced = true;
                    connected = true;
                    since = Instant.now();
                    log.info("[cluster {}] connected to Redis", id);
                    return;
                }
                if (!connectFailed && System.nanoTime() - startedAt < TimeUnit.SECONDS.toNanos(10)) {
                    return; // still connecting
                }
                announced = true;
                since = Instant.now();
                log.warn("[cluster {}] Redis unreachable: modules keep serving; what goes to the cluster waits in the"
                        + " outbox ({} of {}; beyond that it is dropped and counted)", id, waiting(), outbox.capacity());
                return;
            }
            if (now != connected) {
                Duration was = Duration.between(since, Instant.now());
                since = Instant.now();
                connected = now;
                if (now) {
                    log.info("[cluster {}] Redis reachable{}: reading on from the last entry ids, sending the {} waiting"
                            + " entries in order", id, was.toMillis() > 1000 ? " again after " + was.toSeconds() + " s" : "",
                            waiting());
                    StreamReader rd = reader;
                    if (rd != null) {
                        rd.reconnected();
                    }
                } else {
                    log.warn("[cluster {}] Redis unreachable: modules keep serving; what goes to the cluster waits in the"
                            + " outbox ({} of {}; beyond that it is dropped and counted); this node's WebSocket clients"
                            + " get nothing until Redis is back", id, waiting(), outbox.capacity());
                }
            }
            if (now && p != null && System.nanoTime() / TimeUnit.SECONDS.toNanos(2) != lastLagCheck) {
                lastLagCheck = System.nanoTime() / TimeUnit.SECONDS.toNanos(2);
                checkLag(p);
            }
        } catch (RuntimeException e) {
            log.debug("[cluster {}] watch: {}", id, e.toString());
        }
    }

    /** How far each followed stream's last entry is ahead of what was read (in ms of entry ids). */
    private void checkLag(StatefulRedisConnection<byte[], byte[]> c) {
        StreamReader r = reader;
        if (r == null) {
            return;
        }
        for (StreamReader.Followed f : r.followed()) {
            if (!f.ready) {
                continue;
            }
            RedisFuture<List<StreamMessage<byte[], byte[]>>> last = c.async().xrevrange(f.ref.keyBytes(),
                    Range.create("-", "+"), Limit.from(1));
            last.thenAccept(list -> {
                if (list != null && !list.isEmpty()) {
                    f.lagMillis = Math.max(0, millis(list.get(0).getId()) - millis(f.lastReadId));
                } else {
                    f.lagMillis = 0;
                }
            });
        }
    }

    private static long millis(String streamId) {
        int dash = streamId.indexOf('-');
        try {
            return Long.parseLong(dash < 0 ? streamId : streamId.substring(0, dash));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private int waiting() {
        StreamPublisher p = publisher;
        return outbox.depth() + (p != null ? p.inFlight() : 0);
    }

    // ---- what the publisher and reader ask ----------------------------------------------------------------------

    /** This node's id. */
    public String id() {
        return id;
    }

    /** This node in the streams: its id and a token of this run (numbering starts anew with each run). */
    String origin() {
        return origin;
    }

    /** A new origin, after this node's numbering in a stream could not go on. */
    String newOrigin() {
        origin = id + "/" + TopicOffset.newEpoch();
        return origin;
    }

    /** Whether {@code origin} (read from a stream) is this node, in any run. */
    boolean isOwn(String origin) {
        return BusBridge.origin(origin).equals(id);
    }

    String newEpoch() {
        return TopicOffset.newEpoch();
    }

    StreamRef topicStream(String topic) {
        return topicStreams.computeIfAbsent(topic, t -> StreamRef.topic(prefix, t));
    }

    StreamRef busStream() {
        return busStream;
    }

    /** MAXLEN of a stream. */
    int streamLength(StreamRef ref) {
        return ref.isBus() ? busStreamLength : Math.max(historySize, MIN_STREAM_LENGTH);
    }

    long commandTimeoutMillis() {
        return commandTimeout.toMillis();
    }

    /** How long one blocking read waits: a second, or less than the command timeout. */
    long readBlockMillis() {
        return Math.max(10, Math.min(1000, commandTimeout.toMillis() / 2));
    }

    // ---- what it shows ----------------------------------------------------------------------------------------

    @Override
    public ClusterState state() {
        Map<String, ClusterState.StreamState> topics = new LinkedHashMap<>();
        ClusterState.StreamState busState = null;
        StreamReader r = reader;
        if (r != null) {
            for (StreamReader.Followed f : r.followed()) {
                ClusterState.StreamState s = new ClusterState.StreamState(f.ref.key(), f.ready ? f.epoch : null,
                        f.ready ? f.lastReadId : null, f.ready && f.lagMillis >= 0 ? f.lagMillis : null);
                if (f.ref.isBus()) {
                    busState = s;
                } else {
                    topics.put(f.ref.topic(), s);
                }
            }
        }
        return new ClusterState(id, connected, since, waiting(), outbox.capacity(), outbox.dropped(),
                stats.publishedTopics(), stats.publishedBus(), stats.readTopics(), stats.readBus(), stats.duplicates(),
                stats.lost(), stats.resent(), busTopicPatterns, topics, busState);
    }

    /** Whether both connections to Redis are up. */
    public boolean connected() {
        return connected;
    }

    ClusterStats stats() {
        return stats;
    }

    /** Entries waiting to go to Redis. */
    int outboxDepth() {
        return waiting();
    }

    long outboxDropped() {
        return outbox.dropped();
    }

    /** The largest lag of the streams this node reads, in milliseconds. */
    long maxLagMillis() {
        long max = 0;
        StreamReader r = reader;
        if (r != null) {
            for (StreamReader.Followed f : r.followed()) {
                max = Math.max(max, f.lagMillis);
            }
        }
        return max;
    }
}
