package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the outbox to Redis, in order, on its own thread ({@code wasi-cluster-publisher}) and connection: batches of
 * {@link AppendScript} calls, pipelined, then their results in order. An entry leaves this publisher only once
 * Redis has it (or had it: a duplicate); anything else is sent again, from the first entry that did not make it,
 * with the same sequence number, so that a lost reply, a reconnection that replays commands or a timeout never
 * loses, duplicates or reorders an entry of this node in a stream.
 *
 * <p>When Redis lost its data (the stream's epoch changed), the entries this node added in the last seconds
 * (its window) go to the new stream first: readers that had not read them yet get them, the others recognise them
 * by their sequence numbers.
 *
 * <p>Everything here but the counters is confined to the publisher thread.
 */
final class StreamPublisher implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(StreamPublisher.class);

    /** Most entries sent in one pipelined batch. */
    static final int BATCH = 512;
    /** Most entries per stream kept to be sent again if Redis loses its data. */
    static final int WINDOW_ENTRIES = 1024;
    /** How long an entry is kept to be sent again if Redis loses its data. */
    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long MAX_BACKOFF_MILLIS = 2000;

    private final ClusterNode node;
    private final ClusterOutbox outbox;
    private final ClusterStats stats;
    private final BooleanSupplier flushing;
    private final Map<String, Outgoing> streams = new HashMap<>();
    private List<Item> todo = new ArrayList<>();
    private volatile int inFlight;
    private long backoff;
    private long lastSweep = System.nanoTime();

    /** @param flushing whether to keep sending (running, or stopping with entries to flush) */
    StreamPublisher(ClusterNode node, ClusterOutbox outbox, ClusterStats stats, BooleanSupplier flushing) {
        this.node = node;
        this.outbox = outbox;
        this.stats = stats;
        this.flushing = flushing;
    }

    /** Entries taken from the outbox that Redis does not have yet. */
    int inFlight() {
        return inFlight;
    }

    @Override
    public void run() {
        while (flushing.getAsBoolean()) {
            try {
                StatefulRedisConnection<byte[], byte[]> connection = node.publisherConnection();
                if (connection == null) {
                    pause(); // (it connects before there is anything to send: the node's state is known at once)
                    continue;
                }
                if (todo.isEmpty()) {
                    for (ClusterOutbox.Entry e : outbox.take(BATCH, 200)) {
                        Outgoing stream = streams.computeIfAbsent(e.stream().key(), k -> new Outgoing(e.stream(), node.origin()));
                        todo.add(new Item(e, stream, stream.nextSeq++));
                    }
                    inFlight = todo.size();
                    sweepWindows();
                    if (todo.isEmpty()) {
                        continue;
                    }
                }
                send(connection.async());
                inFlight = todo.size();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.debug("[cluster {}] publishing failed: {}", node.id(), e.toString());
                pauseQuietly();
            }
        }
    }

    /** Sends {@link #todo}; leaves in it what must be sent again. */
    private void send(RedisAsyncCommands<byte[], byte[]> redis) throws InterruptedException {
        List<RedisFuture<List<Object>>> replies = new ArrayList<>(todo.size());
        for (Item it : todo) {
            replies.add(redis.evalsha(AppendScript.SHA, ScriptOutputType.MULTI, it.keys(), it.args(node)));
        }
        int done = 0;
        List<Item> before = List.of();
        try {
            for (; done < todo.size(); done++) {
                Item it = todo.get(done);
                AppendScript.Result r = AppendScript.Result.of(replies.get(done).get(node.commandTimeoutMillis(), TimeUnit.MILLISECONDS));
                if (r.status() == AppendScript.Status.OK || r.status() == AppendScript.Status.DUPLICATE) {
                    it.stream.acked(it, r.epoch());
                    if (r.status() == AppendScript.Status.OK) {
                        stats.published(it.stream.ref.isBus());
                    }
                    continue;
                }
                if (r.status() == AppendScript.Status.EPOCH) {
                    before = it.stream.newEpoch(r.epoch(), it.seq);
                    log.warn("[cluster {}] stream {} lost its data (epoch {} is now {}): sending again the {} entries of"
                            + " this node from the last {} s before going on", node.id(), it.stream.ref.label(),
                            it.stream.lastEpoch, r.epoch(), before.size(), TimeUnit.NANOSECONDS.toSeconds(WINDOW_NANOS));
                    stats.resent(before.size());
                } else {
                    before = it.stream.fillGap(r.last(), it.seq, node);
                }
                break;
            }
            backoff = 0;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RedisNoScriptException) {
                // Redis restarted (or flushed its scripts): load it, then go on from this entry
                loadScript(redis);
            } else {
                log.debug("[cluster {}] append failed, sending again from entry {}: {}", node.id(), done, String.valueOf(e.getCause()));
                pause();
            }
        } catch (TimeoutException e) {
            log.debug("[cluster {}] no reply within {} ms, sending again from entry {}", node.id(), node.commandTimeoutMillis(), done);
            pause();
        } catch (RuntimeException e) {
            log.debug("[cluster {}] append failed, sending again from entry {}: {}", node.id(), done, e.toString());
            pause();
        }
        List<Item> next = new ArrayList<>(before.size() + todo.size() - done);
        next.addAll(before);
        next.addAll(todo.subList(done, todo.size()));
        todo = next;
    }

    private void loadScript(RedisAsyncCommands<byte[], byte[]> redis) throws InterruptedException {
        try {
            redis.scriptLoad(AppendScript.SOURCE).get(node.commandTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.debug("[cluster {}] loading the append script failed: {}", node.id(), e.toString());
            pause();
        }
    }

    private void sweepWindows() {
        long now = System.nanoTime();
        if (now - lastSweep < TimeUnit.SECONDS.toNanos(1)) {
            return;
        }
        lastSweep = now;
        for (Outgoing o : streams.values()) {
            o.expire(now);
        }
    }

    private void pause() throws InterruptedException {
        backoff = backoff == 0 ? 50 : Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        Thread.sleep(backoff);
    }

    private void pauseQuietly() {
        try {
            pause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An entry on its way, with its stream and its sequence number (kept when it is sent again). */
    record Item(ClusterOutbox.Entry entry, Outgoing stream, long seq) {

        byte[][] keys() {
            StreamRef r = stream.ref;
            return new byte[][] {r.keyBytes(), bytes(r.epochKey()), bytes(r.seqKey())};
        }

        byte[][] args(ClusterNode node) {
            byte[][] fields = entry.fields();
            byte[][] args = new byte[6 + fields.length][];
            args[0] = bytes(stream.epoch);
            args[1] = bytes(node.newEpoch());
            args[2] = bytes(Integer.toString(node.streamLength(stream.ref)));
            args[3] = bytes(stream.origin);
            args[4] = bytes(Long.toString(seq));
            args[5] = bytes(Long.toString(stream.base));
            System.arraycopy(fields, 0, args, 6, fields.length);
            return args;
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** What this node sends to one stream: its epoch, its numbering, its window. Publisher thread only. */
    static final class Outgoing {
        final StreamRef ref;
        /** The stream's epoch as this node knows it; "" until its first append. */
        String epoch = "";
        String lastEpoch = "";
        /** This node in the stream (its name and start-up token: numbering starts again with each run). */
        String origin;
        /** The first sequence number this node sends in the current epoch. */
        long base = 1;
        long nextSeq = 1;
        private final ArrayDeque<Acked> window = new ArrayDeque<>();

        Outgoing(StreamRef ref, String origin) {
            this.ref = ref;
            this.origin = origin;
        }

        void acked(Item it, String epoch) {
            this.epoch = epoch;
            Acked last = window.peekLast();
            if (last == null || last.item.seq < it.seq) {
                window.add(new Acked(it, System.nanoTime()));
                if (window.size() > WINDOW_ENTRIES) {
                    window.poll();
                }
            }
        }

        /** Redis lost the stream: what to send before entry {@code seq} in the new epoch. */
        List<Item> newEpoch(String newEpoch, long seq) {
            lastEpoch = epoch;
            epoch = newEpoch;
            expire(System.nanoTime());
            List<Item> again = new ArrayList<>(window.size());
            for (Acked a : window) {
                again.add(a.item);
            }
            base = again.isEmpty() ? seq : again.get(0).seq;
            return again;
        }

        /**
         * Redis has this node's entries up to {@code last} only, but {@code seq} was sent: send again what is missing
         * from the window, or, when the window does not have it, start a new numbering (a new origin) from {@code seq}.
         */
        List<Item> fillGap(long last, long seq, ClusterNode node) {
            List<Item> missing = new ArrayList<>();
            for (Acked a : window) {
                if (a.item.seq > last && a.item.seq < seq) {
                    missing.add(a.item);
                }
            }
            if (missing.size() == seq - last - 1) {
                log.warn("[cluster {}] stream {} misses entries {} to {} of this node: sending them again", node.id(),
                        ref.label(), last + 1, seq - 1);
                return missing;
            }
            origin = node.newOrigin();
            base = seq;
            window.clear();
            log.warn("[cluster {}] stream {} misses entries {} to {} of this node, which are gone: numbering again from"
                    + " {} as {}", node.id(), ref.label(), last + 1, seq - 1, seq, origin);
            return List.of();
        }

        void expire(long now) {
            Acked head;
            while ((head = window.peek()) != null && now - head.at > WINDOW_NANOS) {
                window.poll();
            }
        }
    }

    private record Acked(Item item, long at) {}

}
