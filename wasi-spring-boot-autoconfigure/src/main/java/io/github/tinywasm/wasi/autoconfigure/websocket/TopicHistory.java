package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The bounded history of one topic: the latest frames with their offsets, and what can be resumed from it. No
 * Spring, no I/O, no threads of its own: the fan-out guards each instance with its topic's monitor.
 *
 * <p>On one node the history numbers the frames itself ({@link #next}); in a cluster it is fed the stream's
 * entries in order ({@link #append}), after being loaded with the stream's latest ones ({@link #loaded}).
 *
 * <p>An offset {@code S} can be resumed when it is of this epoch, not older than the {@link #floor} (frames after
 * the floor are all still here) and not newer than the last frame (in a cluster a newer one is accepted: the client
 * saw it on a node that read the stream further than this one, and frames up to it are skipped).
 */
final class TopicHistory {

    /** Why a {@code since} could not be resumed. */
    static final String OUT_OF_HISTORY = "out-of-history";
    static final String OTHER_EPOCH = "other-epoch";
    static final String INVALID = "invalid";

    private final int capacity;
    private final String epoch;
    private final Entry[] ring;
    private int oldest;
    private int size;
    private TopicOffset last;
    /** Frames at or before the floor may be gone; every frame after it is here. */
    private TopicOffset floor;

    /**
     * An empty history: nothing missing, nothing yet.
     *
     * @param capacity most frames kept (0: none, only offsets are counted)
     */
    TopicHistory(int capacity, String epoch) {
        this(capacity, epoch, TopicOffset.start(epoch), List.of());
    }

    private TopicHistory(int capacity, String epoch, TopicOffset floor, List<Entry> entries) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative");
        }
        this.capacity = capacity;
        this.epoch = epoch;
        this.ring = new Entry[capacity];
        this.floor = floor;
        this.last = floor;
        for (Entry e : entries) {
            add(e);
        }
    }

    /**
     * A history loaded from the latest entries of a stream (oldest first) whose frames up to {@code floor} may be
     * gone. Entries beyond the capacity are left out (the oldest first), which raises the floor.
     */
    static TopicHistory loaded(int capacity, String epoch, TopicOffset floor, List<Entry> entries) {
        return new TopicHistory(capacity, epoch, floor, entries);
    }

    String epoch() {
        return epoch;
    }

    /** The offset of the last frame, or the floor when there is none. */
    TopicOffset last() {
        return last;
    }

    TopicOffset floor() {
        return floor;
    }

    int size() {
        return size;
    }

    /** Whether a frame was ever recorded (or loaded). */
    boolean started() {
        return last.major() != 0 || last.minor() != 0;
    }

    /** Records a frame of this node with the next offset (one node: positions 1, 2, 3, ...). */
    Entry next(byte[] payload) {
        Entry e = new Entry(new TopicOffset(epoch, 0, last.minor() + 1), payload);
        add(e);
        return e;
    }

    /**
     * Records a frame read from the stream; {@code null} (nothing recorded) when it is not after the last one: a
     * frame already seen.
     */
    @Nullable Entry append(TopicOffset offset, byte[] payload) {
        if (!offset.epoch().equals(epoch)) {
            throw new IllegalArgumentException("offset " + offset + " is not of epoch " + epoch);
        }
        if (!offset.isAfter(last)) {
            return null;
        }
        Entry e = new Entry(offset, payload);
        add(e);
        return e;
    }

    private void add(Entry e) {
        last = e.offset();
        if (capacity == 0) {
            floor = e.offset();
            return;
        }
        if (size == capacity) {
            floor = ring[oldest].offset();
            ring[oldest] = e;
            oldest = (oldest + 1) % capacity;
        } else {
            ring[(oldest + size) % capacity] = e;
            size++;
        }
    }

    /**
     * What a client resuming after {@code since} gets.
     *
     * @param since the client's offset token, or {@code null} for a client that does not resume
     * @param acceptAhead whether an offset of this epoch after the last frame is accepted (a cluster)
     */
    Replay replay(@Nullable String since, boolean acceptAhead) {
        if (since == null) {
            return new Replay(Replay.Outcome.LIVE, List.of(), last, null, null);
        }
        TopicOffset s = TopicOffset.parse(since);
        if (s == null) {
            return reset(INVALID);
        }
        if (!s.epoch().equals(epoch)) {
            return reset(OTHER_EPOCH);
        }
        if (s.isAfter(last)) {
            return acceptAhead ? new Replay(Replay.Outcome.RECOVERED, List.of(), s, null, s) : reset(INVALID);
        }
        if (floor.isAfter(s)) {
            return reset(OUT_OF_HISTORY);
        }
        List<Entry> missed = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            Entry e = ring[(oldest + i) % capacity];
            if (e.offset().isAfter(s)) {
                missed.add(e);
            }
        }
        return new Replay(Replay.Outcome.RECOVERED, missed, last, null, null);
    }

    private Replay reset(String reason) {
        return new Replay(Replay.Outcome.RESET, List.of(), last, reason, null);
    }

    /**
     * A frame of the history: its offset and payload, and the frames clients get, made once and shared.
     */
    static final class Entry {
        private final TopicOffset offset;
        private final WireFrame raw;
        private volatile @Nullable WireFrame withOffset;

        Entry(TopicOffset offset, byte[] payload) {
            this.offset = offset;
            this.raw = WireFrame.binary(payload);
        }

        TopicOffset offset() {
            return offset;
        }

        byte[] payload() {
            return raw.bytes();
        }

        /** The frame for a client of the given format (the offsets one made on first use; a race makes it twice). */
        WireFrame frame(boolean offsets) {
            if (!offsets) {
                return raw;
            }
            WireFrame f = withOffset;
            if (f == null) {
                f = WireFrame.binary(WireFormat.withOffset(offset, raw.bytes()));
                withOffset = f;
            }
            return f;
        }
    }

    /**
     * What a connecting client gets.
     *
     * @param outcome live (no {@code since}), recovered or reset
     * @param missed the frames after {@code since}, oldest first
     * @param position the offset the client is live after
     * @param reason why {@code since} could not be resumed, or {@code null}
     * @param skipThrough frames up to this offset are skipped for the client (it saw them on another node), or
     *     {@code null}
     */
    record Replay(Outcome outcome, List<Entry> missed, TopicOffset position, @Nullable String reason,
            @Nullable TopicOffset skipThrough) {

        enum Outcome {
            LIVE, RECOVERED, RESET
        }
    }
}
