package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Where a frame stands in its topic: the topic's epoch and a position that only grows within it. Clients see it as
 * the opaque token {@code EPOCH:POSITION} and give it back as {@code ?since=} to resume after it.
 *
 * <p>A position is a pair of numbers, compared in order: one node (embedded) counts frames per topic
 * ({@code major} 0, {@code minor} 1, 2, 3, ..., written {@code EPOCH:3}); a cluster uses the Redis stream entry id
 * ({@code 1700000000000-3}: {@code major} the milliseconds, {@code minor} the sequence, written
 * {@code EPOCH:1700000000000-3}). Position 0 ({@code EPOCH:0}) is "before the first frame". The epoch changes when
 * the history is lost (the node restarted; Redis lost its data): an offset of another epoch cannot be resumed.
 *
 * @param epoch the topic's epoch: letters and digits
 * @param major the major part of the position (0 on one node)
 * @param minor the minor part of the position
 */
public record TopicOffset(String epoch, long major, long minor) implements Comparable<TopicOffset> {

    /** Longest offset token accepted from a client. */
    public static final int MAX_LENGTH = 64;

    private static final Pattern TOKEN = Pattern.compile("([A-Za-z0-9]{1,24}):(\\d{1,19})(?:-(\\d{1,19}))?");

    public TopicOffset {
        if (epoch.isEmpty() || major < 0 || minor < 0) {
            throw new IllegalArgumentException("invalid offset " + epoch + ":" + major + "-" + minor);
        }
    }

    /** A new random epoch: eight letters and digits. */
    public static String newEpoch() {
        StringBuilder b = new StringBuilder(8);
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 8; i++) {
            b.append(Character.forDigit(random.nextInt(36), 36));
        }
        return b.toString();
    }

    /** The position before the first frame of {@code epoch}. */
    public static TopicOffset start(String epoch) {
        return new TopicOffset(epoch, 0, 0);
    }

    /** Reads a token written by {@link #toString()}; {@code null} when it is not one. */
    public static @Nullable TopicOffset parse(@Nullable String token) {
        if (token == null || token.length() > MAX_LENGTH) {
            return null;
        }
        Matcher m = TOKEN.matcher(token);
        if (!m.matches()) {
            return null;
        }
        try {
            long first = Long.parseLong(m.group(2));
            return m.group(3) == null ? new TopicOffset(m.group(1), 0, first)
                    : new TopicOffset(m.group(1), first, Long.parseLong(m.group(3)));
        } catch (NumberFormatException e) {
            return null; // beyond a long
        }
    }

    /** A Redis stream entry id ({@code MS-SEQ}) in {@code epoch}; {@code null} when it is not one. */
    public static @Nullable TopicOffset ofStreamId(String epoch, String id) {
        return parse(epoch + ":" + id);
    }

    /** This position as a Redis stream entry id ({@code MS-SEQ}). */
    public String streamId() {
        return major + "-" + minor;
    }

    /** Compares positions only (offsets of one epoch). */
    @Override
    public int compareTo(TopicOffset other) {
        int c = Long.compare(major, other.major);
        return c != 0 ? c : Long.compare(minor, other.minor);
    }

    /** Whether this position comes after {@code other}'s. */
    public boolean isAfter(TopicOffset other) {
        return compareTo(other) > 0;
    }

    /** The token clients see: {@code EPOCH:MINOR} when {@code major} is 0, else {@code EPOCH:MAJOR-MINOR}. */
    @Override
    public String toString() {
        return major == 0 ? epoch + ":" + minor : epoch + ":" + major + "-" + minor;
    }
}
