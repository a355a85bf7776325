package io.github.tinywasm.wasi.http;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A pattern of request paths within a module, relative to {@code {http.path}/{name}} ({@code /api/v1} for
 * {@code /m/users/api/v1}): {@code /}-separated segments, where {@code *} matches exactly one segment, a final
 * {@code **} matches the rest (zero or more segments) and any other segment matches itself ({@code /users/*},
 * {@code /api/**}); {@code /} alone matches the module's root. The sibling of
 * {@link io.github.tinywasm.wasi.bus.TopicPattern}, in the same style, for paths: a module's {@code http.paths}
 * capability uses it.
 *
 * <p>Paths are matched as the guest will see them, so nothing ambiguous gets through a narrow pattern: one trailing
 * {@code /} is ignored ({@code /users/} is {@code /users}), and a path with an empty segment ({@code //}) or a
 * {@code .} or {@code ..} segment (after decoding) is matched only by {@code /**}. Segments compare exactly (case
 * matters, as in the guest).
 *
 * <p>Immutable and thread-safe; {@link #matches} allocates nothing.
 */
public final class PathPattern {

    private static final PathPattern ANY = new PathPattern("/**", new String[0], true);

    private final String text;
    private final String[] segments;
    /** Whether a final {@code **} matches the rest. */
    private final boolean rest;

    private PathPattern(String text, String[] segments, boolean rest) {
        this.text = text;
        this.segments = segments;
        this.rest = rest;
    }

    /**
     * Parses a pattern.
     *
     * @throws IllegalArgumentException naming the pattern, if it does not start with {@code /}, has an empty segment
     *     (a trailing {@code /} included), a {@code .} or {@code ..} segment, or uses {@code *} other than as a whole
     *     segment ({@code **} only last)
     */
    public static PathPattern of(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        if (pattern.equals("/")) {
            return new PathPattern(pattern, new String[0], false);
        }
        if (pattern.equals("/**")) {
            return ANY;
        }
        String[] segments = pattern.startsWith("/") ? pattern.substring(1).split("/", -1) : new String[] {""};
        boolean rest = false;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            if (s.equals("**") && i == segments.length - 1) {
                rest = true;
            } else if (s.isEmpty() || s.equals(".") || s.equals("..") || (s.contains("*") && !s.equals("*"))) {
                throw new IllegalArgumentException("bad path pattern '" + pattern + "': use '/'-separated segments"
                        + " starting with '/', '*' for one segment and a final '**' for the rest");
            }
        }
        if (rest) {
            String[] head = new String[segments.length - 1];
            System.arraycopy(segments, 0, head, 0, head.length);
            segments = head;
        }
        return new PathPattern(pattern, segments, rest);
    }

    /** The pattern that matches every path: {@code /**}. */
    public static PathPattern any() {
        return ANY;
    }

    /**
     * Whether {@code path} matches.
     *
     * @param path a path within the module, starting with {@code /} ({@code /} for its root); anything else matches
     *     nothing but {@link #any()}
     */
    public boolean matches(String path) {
        if (this == ANY) {
            return true;
        }
        int length = path.length();
        if (length == 0 || path.charAt(0) != '/') {
            return false;
        }
        if (length > 1 && path.charAt(length - 1) == '/') {
            length--; // one trailing slash is ignored
        }
        int pos = 1;
        for (String segment : segments) {
            if (pos > length) {
                return false; // the path has fewer segments
            }
            int end = segmentEnd(path, pos, length);
            if (!plain(path, pos, end)) {
                return false;
            }
            if (!segment.equals("*") && (end - pos != segment.length() || !path.startsWith(segment, pos))) {
                return false;
            }
            pos = end + 1;
        }
        if (rest) {
            // zero or more segments, none of them empty, '.' or '..'
            while (pos <= length) {
                int end = segmentEnd(path, pos, length);
                if (!plain(path, pos, end)) {
                    return false;
                }
                pos = end + 1;
            }
            return true;
        }
        // exactly consumed: the last segment ended at the path's end, or the root pattern met the root
        return pos == length + 1 || (segments.length == 0 && length == 1);
    }

    private static int segmentEnd(String path, int from, int length) {
        int end = path.indexOf('/', from);
        return end < 0 || end > length ? length : end;
    }

    /** Whether the segment from {@code start} to {@code end} is neither empty nor {@code .} nor {@code ..}. */
    private static boolean plain(String path, int start, int end) {
        int n = end - start;
        if (n == 0) {
            return false;
        }
        if (n <= 2 && path.charAt(start) == '.' && (n == 1 || path.charAt(start + 1) == '.')) {
            return false;
        }
        return true;
    }

    /** The pattern as written. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof PathPattern p && p.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
