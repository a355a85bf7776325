package io.github.tinywasm.wasi.autoconfigure.cluster;

import java.util.List;

/**
 * Bus topic patterns ({@code tinywasm.wasi.cluster.topics}): dot-separated segments, where {@code *} matches one
 * segment and {@code >}, as the last segment, one or more; any other segment matches itself. {@code orders.*}
 * matches {@code orders.new} but neither {@code orders} nor {@code orders.new.eu}; {@code metrics.>} matches
 * {@code metrics.cpu} and {@code metrics.cpu.user}. Immutable and thread-safe.
 */
public final class TopicPatterns {

    private final List<String[]> patterns;

    private TopicPatterns(List<String[]> patterns) {
        this.patterns = patterns;
    }

    /** The patterns; each must be {@link #isValid valid}. */
    public static TopicPatterns of(List<String> patterns) {
        for (String p : patterns) {
            if (!isValid(p)) {
                throw new IllegalArgumentException("invalid topic pattern '" + p + "'");
            }
        }
        return new TopicPatterns(patterns.stream().map(p -> p.split("\\.", -1)).toList());
    }

    /** Whether {@code pattern} is one: no empty segment, {@code *} and {@code >} alone in theirs, {@code >} last. */
    public static boolean isValid(String pattern) {
        if (pattern == null || pattern.isEmpty()) {
            return false;
        }
        String[] segments = pattern.split("\\.", -1);
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            if (s.isEmpty() || (s.length() > 1 && (s.contains("*") || s.contains(">")))
                    || (s.equals(">") && i != segments.length - 1)) {
                return false;
            }
        }
        return true;
    }

    /** Whether there is no pattern at all. */
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** Whether any pattern matches {@code topic}. */
    public boolean matches(String topic) {
        if (patterns.isEmpty()) {
            return false;
        }
        String[] segments = topic.split("\\.", -1);
        for (String[] p : patterns) {
            if (matches(p, segments)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(String[] pattern, String[] topic) {
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.equals(">")) {
                return topic.length > i;
            }
            if (i >= topic.length || (!p.equals("*") && !p.equals(topic[i]))) {
                return false;
            }
        }
        return topic.length == pattern.length;
    }
}
