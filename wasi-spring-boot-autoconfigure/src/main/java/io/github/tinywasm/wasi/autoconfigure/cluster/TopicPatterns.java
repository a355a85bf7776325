package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.github.tinywasm.wasi.bus.TopicPattern;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The bus topics that cross nodes ({@code tinywasm.wasi.cluster.topics}): a list of the engine's
 * {@link TopicPattern}s (dot-separated segments, {@code *} for one segment, a final {@code >} for one or more), the
 * project's one topic matcher. {@code orders.*} matches {@code orders.new} but neither {@code orders} nor
 * {@code orders.new.eu}; {@code metrics.>} matches {@code metrics.cpu} and {@code metrics.cpu.user}. Immutable and
 * thread-safe.
 */
public final class TopicPatterns {

    private final List<TopicPattern> patterns;

    private TopicPatterns(List<TopicPattern> patterns) {
        this.patterns = patterns;
    }

    /**
     * The patterns.
     *
     * @throws IllegalArgumentException naming the first pattern that is not one
     */
    public static TopicPatterns of(List<String> patterns) {
        return new TopicPatterns(patterns.stream().map(TopicPattern::of).toList());
    }

    /** Whether {@code pattern} is one ({@link TopicPattern#of} accepts it). */
    public static boolean isValid(@Nullable String pattern) {
        if (pattern == null) {
            return false;
        }
        try {
            TopicPattern.of(pattern);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether there is no pattern at all. */
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** Whether any pattern matches {@code topic}. */
    public boolean matches(String topic) {
        for (TopicPattern p : patterns) {
            if (p.matches(topic)) {
                return true;
            }
        }
        return false;
    }
}
