package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.github.tinywasm.wasi.autoconfigure.websocket.FeedFrame;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicOffset;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the cluster's streams on its own thread ({@code wasi-cluster-reader}) and its own connection, with one
 * blocking {@code XREAD} over every stream it follows: the topic streams whose topics this node's WebSocket clients
 * follow (the fan-out says which), and the bus stream when bus topics cross nodes. It remembers the last entry id it
 * read of each stream, so that after an outage it goes on from there: nothing missed within the stream's length,
 * nothing read twice.
 *
 * <p>A topic followed anew is loaded first: its stream's latest entries go into the fan-out's history (for clients
 * that resume with {@code since}), then its entries are read from the last one loaded. Every entry carries its
 * sending node's origin and sequence number: an entry at or below the last one delivered from that origin is a
 * duplicate (sent again after a retry, or after Redis lost its data) and is skipped; so the fan-out and the bus get
 * each entry once, in each sender's order, and every node sees a topic in the stream's order. When a stream's epoch
 * changes (Redis lost its data), its new stream is read from its start, the numbering still telling what was
 * delivered.
 *
 * <p>Threads: {@link #followedTopicsChanged()} and {@link #reconnected()} come from other threads (volatile
 * flags); everything else is confined to the reader thread, except the {@link Followed} snapshot fields the
 * endpoint reads (volatile).
 */
final class StreamReader implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(StreamReader.class);
    private static final String START = "0-0";
    /** Most entries one XREAD returns per stream. */
    private static final int COUNT = 1000;

    private final ClusterNode node;
    private final @Nullable TopicFanOut fanOut;
    private final @Nullable BusBridge bus;
    private final ClusterStats stats;
    private final BooleanSupplier running;
    private final int historySize;
    /** Followed topic streams by topic; the map is written by the reader thread only. */
    private final Map<String, Followed> topics = new ConcurrentHashMap<>();
    private final @Nullable Followed busStream;
    private final Object work = new Object();
    private volatile boolean reconcile = true;
    private volatile boolean revalidate;
    private volatile long clientId = -1;
    private long backoff;

    StreamReader(ClusterNode node, @Nullable TopicFanOut fanOut, @Nullable BusBridge bus, ClusterStats stats,
            BooleanSupplier running, int historySize) {
        this.node = node;
        this.fanOut = fanOut;
        this.bus = bus;
        this.stats = stats;
        this.running = running;
        this.historySize = historySize;
        this.busStream = bus != null ? new Followed(node.busStream(), -1) : null;
    }

    /** The fan-out's followed topics changed: reconcile before the next read (the read in progress is cut short). */
    void followedTopicsChanged() {
        reconcile = true;
        wake();
    }

    /** The connection came back after an outage: check every stream's epoch before reading on. */
    void reconnected() {
        revalidate = true;
        wake();
    }

    /** This reader's client id on its connection, for {@code CLIENT UNBLOCK}; -1 when unknown. */
    long clientId() {
        return clientId;
    }

    private void wake() {
        synchronized (work) {
            work.notifyAll();
        }
        node.unblockReader();
    }

    /** Snapshot of what is followed, for the endpoint: topic streams, then the bus stream (if any). */
    List<Followed> followed() {
        List<Followed> all = new ArrayList<>(topics.values());
        if (busStream != null) {
            all.add(busStream);
        }
        return all;
    }

    @Override
    public void run() {
        while (running.getAsBoolean()) {
            try {
                StatefulRedisConnection<byte[], byte[]> connection = node.readerConnection();
                if (connection == null) {
                    pause();
                    continue;
                }
                RedisCommands<byte[], byte[]> redis = connection.sync();
                if (clientId < 0 || revalidate) {
                    clientId = redis.clientId();
                }
                if (reconcile) {
                    reconcile = false;
                    reconcile();
                }
                if (revalidate) {
                    revalidate = false;
                    revalidate(redis);
                }
                for (Followed f : followed()) {
                    if (!f.ready) {
                        load(redis, f);
                    }
                }
                readOnce(redis);
                backoff = 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running.getAsBoolean()) {
                    return;
                }
                log.debug("[cluster {}] reading failed: {}", node.id(), e.toString());
                revalidate = true;
                try {
                    pause();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Follows the fan-out's topics: new ones (or followed anew) to load, gone ones dropped. */
    private void reconcile() {
        Map<String, Long> wanted = fanOut != null ? fanOut.followedTopics() : Map.of();
        topics.values().removeIf(f -> !Long.valueOf(f.generation).equals(wanted.get(f.ref.topic())));
        for (Map.Entry<String, Long> w : wanted.entrySet()) {
            topics.computeIfAbsent(w.getKey(), t -> new Followed(node.topicStream(t), w.getValue()));
        }
    }

    /** After an outage: a stream whose epoch changed lost its data; read its new one from the start. */
    private void revalidate(RedisCommands<byte[], byte[]> redis) {
        for (Followed f : followed()) {
            if (f.ready) {
                String epoch = epoch(redis, f.ref);
                if (!epoch.equals(f.epoch)) {
                    newEpoch(f, epoch);
                }
            }
        }
    }

    /**
     * Loads a stream followed anew. A topic: its latest entries into the fan-out's history, then read on from the
     * last; the bus: read from its last entry on (messages before this node started are not for it).
     */
    private void load(RedisCommands<byte[], byte[]> redis, Followed f) {
        String epoch = epoch(redis, f.ref);
        int count = f.ref.isBus() ? 1 : historySize + 1;
        List<StreamMessage<byte[], byte[]>> latest = new ArrayList<>(
                redis.xrevrange(f.ref.keyBytes(), Range.create("-", "+"), Limit.from(count)));
        Collections.reverse(latest);
        f.epoch = epoch;
        f.lastId = latest.isEmpty() ? START : latest.get(latest.size() - 1).getId();
        f.lastReadId = f.lastId;
        if (f.ref.isBus()) {
            f.ready = true;
            return;
        }
        List<FeedFrame> frames = new ArrayList<>(latest.size());
        for (StreamMessage<byte[], byte[]> m : latest) {
            Map<String, byte[]> fields = fields(m);
            if (!epoch.equals(text(fields.get("e")))) {
                continue;
            }
            TopicOffset offset = TopicOffset.ofStreamId(epoch, m.getId());
            byte[] payload = fields.get("p");
            if (offset == null || payload == null) {
                continue;
            }
            f.seen(text(fields.get("o")), number(fields.get("s")));
            frames.add(new FeedFrame(offset, payload));
        }
        TopicOffset floor = latest.size() == count || latest.isEmpty() ? TopicOffset.start(epoch)
                : maxDeleted(redis, f.ref, epoch, latest.get(0).getId());
        if (fanOut != null && fanOut.load(f.ref.wsTopic(), f.generation, epoch, floor, frames)) {
            f.ready = true;
            log.debug("[cluster {}] following topic '{}' from entry {} ({} in history)", node.id(), f.ref.topic(), f.lastId,
                    frames.size());
        } else {
            topics.remove(f.ref.topic(), f); // followed anew meanwhile: the next reconcile loads it again
            reconcile = true;
        }
    }

    /**
     * The position up to which entries of a stream shorter than the history may have been trimmed: Redis 7's
     * {@code max-deleted-entry-id}; without it (older Redis), the first entry (offsets before it get a reset).
     */
    private TopicOffset maxDeleted(RedisCommands<byte[], byte[]> redis, StreamRef ref, String epoch, String firstId) {
        try {
            List<Object> info = redis.xinfoStream(ref.keyBytes());
            for (int i = 0; i + 1 < info.size(); i += 2) {
                if ("max-deleted-entry-id".equals(text(info.get(i)))) {
                    TopicOffset o = TopicOffset.ofStreamId(epoch, text(info.get(i + 1)));
                    if (o != null) {
                        return o;
                    }
                }
            }
        } catch (RuntimeException e) {
            log.debug("[cluster {}] XINFO STREAM {}: {}", node.id(), ref.key(), e.toString());
        }
        TopicOffset first = TopicOffset.ofStreamId(epoch, firstId);
        return first != null ? first : TopicOffset.start(epoch);
    }

    /** One blocking XREAD over the followed streams, and what it returned, delivered. */
    private void readOnce(RedisCommands<byte[], byte[]> redis) throws InterruptedException {
        List<Followed> ready = new ArrayList<>();
        for (Followed f : followed()) {
            if (f.ready) {
                ready.add(f);
            }
        }
        if (ready.isEmpty()) {
            synchronized (work) {
                if (!reconcile && !revalidate) {
                    work.wait(500);
                }
            }
            return;
        }
        @SuppressWarnings("unchecked")
        XReadArgs.StreamOffset<byte[]>[] offsets = new XReadArgs.StreamOffset[ready.size()];
        Map<String, Followed> byKey = new HashMap<>();
        for (int i = 0; i < ready.size(); i++) {
            Followed f = ready.get(i);
            offsets[i] = XReadArgs.StreamOffset.from(f.ref.keyBytes(), f.lastId);
            byKey.put(f.ref.key(), f);
        }
        List<StreamMessage<byte[], byte[]>> got = redis.xread(
                XReadArgs.Builder.block(node.readBlockMillis()).count(COUNT), offsets);
        if (got == null) {
            return;
        }
        String skipping = null;
        for (StreamMessage<byte[], byte[]> m : got) {
            String key = new String(m.getStream(), StandardCharsets.UTF_8);
            Followed f = byKey.get(key);
            if (f == null || key.equals(skipping) || !f.ready) {
                continue;
            }
            if (!handle(f, m)) {
                skipping = key; // its epoch changed: the rest comes again from the new stream's start
            }
        }
    }

    /** Delivers one entry; false when the stream's epoch changed (the entry is read again from the new stream). */
    private boolean handle(Followed f, StreamMessage<byte[], byte[]> m) {
        Map<String, byte[]> fields = fields(m);
        String epoch = text(fields.get("e"));
        if (!epoch.equals(f.epoch)) {
            newEpoch(f, epoch);
            return false;
        }
        f.lastId = m.getId();
        f.lastReadId = m.getId();
        String origin = text(fields.get("o"));
        long seq = number(fields.get("s"));
        Long max = f.maxSeq.get(origin);
        if (max != null && seq <= max) {
            stats.duplicate();
            return true;
        }
        if (max != null && seq > max + 1) {
            stats.lost(seq - max - 1);
            log.warn("[cluster {}] stream {}: entries {} to {} of {} are gone from Redis (trimmed or lost before this"
                    + " node read them)", node.id(), f.ref.label(), max + 1, seq - 1, origin);
        }
        f.maxSeq.put(origin, seq);
        byte[] payload = fields.get("p");
        if (payload == null) {
            return true;
        }
        if (f.ref.isBus()) {
            if (bus != null && !node.isOwn(origin)) {
                bus.receive(origin, fields);
                stats.read(true);
            }
            return true;
        }
        TopicOffset offset = TopicOffset.ofStreamId(epoch, m.getId());
        if (offset != null && fanOut != null && fanOut.deliver(f.ref.wsTopic(), offset, payload)) {
            stats.read(false);
        }
        return true;
    }

    /** Redis lost the stream's data: read its new stream from the start, the numbering telling what was delivered. */
    private void newEpoch(Followed f, String epoch) {
        log.info("[cluster {}] stream {} has a new epoch ({} -> {}): Redis lost its data; reading the new stream from"
                + " its start, skipping what was delivered", node.id(), f.ref.label(), f.epoch, epoch);
        f.epoch = epoch;
        f.lastId = START;
        if (!f.ref.isBus() && fanOut != null && !fanOut.load(f.ref.wsTopic(), f.generation, epoch, TopicOffset.start(epoch),
                List.of())) {
            topics.remove(f.ref.topic(), f);
            reconcile = true;
        }
    }

    /** The stream's epoch, created (by whichever node comes first) when the stream has none yet. */
    private String epoch(RedisCommands<byte[], byte[]> redis, StreamRef ref) {
        byte[] key = ref.epochKey().getBytes(StandardCharsets.UTF_8);
        byte[] epoch = redis.get(key);
        if (epoch == null) {
            redis.set(key, node.newEpoch().getBytes(StandardCharsets.UTF_8), SetArgs.Builder.nx());
            epoch = redis.get(key);
        }
        return text(epoch);
    }

    private void pause() throws InterruptedException {
        backoff = backoff == 0 ? 50 : Math.min(2000, backoff * 2);
        synchronized (work) {
            work.wait(backoff);
        }
    }

    private static Map<String, byte[]> fields(StreamMessage<byte[], byte[]> m) {
        Map<String, byte[]> fields = new LinkedHashMap<>();
        for (Map.Entry<byte[], byte[]> e : m.getBody().entrySet()) {
            fields.put(new String(e.getKey(), StandardCharsets.UTF_8), e.getValue());
        }
        return fields;
    }

    static String text(@Nullable Object value) {
        return AppendScript.text(value);
    }

    private static long number(byte @Nullable [] value) {
        try {
            return value == null ? 0 : Long.parseLong(new String(value, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * A stream this node reads: where it is, and the last sequence number delivered from each sender. The reader
     * thread writes everything; the endpoint and the lag check read the volatile fields.
     */
    static final class Followed {
        final StreamRef ref;
        final long generation;
        volatile boolean ready;
        volatile String epoch = "";
        /** The id XREAD goes on after. */
        String lastId = START;
        /** The last entry id read (for the endpoint: {@link #lastId} may go back to the start of a new stream). */
        volatile String lastReadId = START;
        /** How far (in ms of entry ids) the stream's last entry is ahead of {@link #lastReadId}, or -1: unknown. */
        volatile long lagMillis = -1;
        final Map<String, Long> maxSeq = new HashMap<>();

        Followed(StreamRef ref, long generation) {
            this.ref = ref;
            this.generation = generation;
        }

        void seen(String origin, long seq) {
            maxSeq.merge(origin, seq, Math::max);
        }
    }
}
