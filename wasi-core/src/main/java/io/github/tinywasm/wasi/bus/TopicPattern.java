package io.github.tinywasm.wasi.bus;

import org.jspecify.annotations.Nullable;
import java.util.Objects;

/**
 * A pattern of topics, in the syntax of NATS subjects: dot-separated segments, where {@code *} matches exactly one
 * segment, a final {@code >} matches one or more, and any other segment matches itself ({@code orders.*.created},
 * {@code audit.>}). {@link #any()} matches every topic. The one topic matcher of the project: module capabilities and the
 * Spring Security {@code TopicAuthorizationManager} both use it ({@link io.github.tinywasm.wasi.http.PathPattern} is its
 * sibling for request paths).
 *
 * <p>Immutable and thread-safe; {@link #matches} allocates nothing.
 */
public final class TopicPattern {

    private static final TopicPattern ANY = new TopicPattern(">", null, true);

    private final String text;
    /** The segments, or {@code null} for {@link #any()}. */
    private final String @Nullable [] segments;
    private final boolean rest;

    private TopicPattern(String text, String @Nullable [] segments, boolean rest) {
        this.text = text;
        this.segments = segments;
        this.rest = rest;
    }

    /**
     * Parses a pattern.
     *
     * @throws IllegalArgumentException naming the pattern, if a segment is empty or uses {@code *} or {@code >} other
     *     than as a whole segment ({@code >} only last)
     */
    public static TopicPattern of(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        String[] segments = pattern.split("\\.", -1);
        boolean rest = false;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.equals(">") && last) {
                rest = true;
            } else if (s.isEmpty() || s.contains(">") || (s.contains("*") && !s.equals("*"))) {
                throw new IllegalArgumentException("bad topic pattern '" + pattern
                        + "': use dot-separated segments, '*' for one segment and a final '>' for the rest");
            }
        }
        if (rest) {
            String[] head = new String[segments.length - 1];
            System.arraycopy(segments, 0, head, 0, head.length);
            segments = head;
        }
        return new TopicPattern(pattern, segments, rest);
    }

    /** The pattern that matches every topic. */
    public static TopicPattern any() {
        return ANY;
    }

    /** Whether {@code topic} matches. */
    public boolean matches(String topic) {
        if (segments == null) {
            return !topic.isEmpty();
        }
        if (segments.length == 0 && rest) {
            return !topic.isEmpty() && topic.charAt(0) != '.' && topic.charAt(topic.length() - 1) != '.'
                    && !topic.contains("..");
        }
        int pos = 0;
        int length = topic.length();
        for (String segment : segments) {
            if (pos > length) {
                return false; // the topic has fewer segments
            }
            int end = topic.indexOf('.', pos);
            if (end < 0) {
                end = length;
            }
            if (end == pos) {
                return false; // an empty segment matches nothing
            }
            if (!segment.equals("*") && (end - pos != segment.length() || !topic.startsWith(segment, pos))) {
                return false;
            }
            pos = end + 1;
        }
        if (rest) {
            // at least one more segment, none of them empty
            return pos < length && topic.charAt(length - 1) != '.' && topic.charAt(pos) != '.'
                    && topic.indexOf("..", pos) < 0;
        }
        return pos == length + 1; // exactly consumed: the last segment ended at the topic's end
    }

    /** The pattern as written. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicPattern p && p.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
