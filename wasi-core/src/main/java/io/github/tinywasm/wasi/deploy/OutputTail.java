package io.github.tinywasm.wasi.deploy;

import java.nio.charset.StandardCharsets;

/**
 * The last {@code limit} bytes of a build's output: a compiler that prints without end costs a bounded amount
 * of memory, and what is kept is what explains a failure (compilers end with their errors and a summary).
 *
 * <p>Threads: every method is synchronized; the build's output reader appends while the build thread reads.
 */
final class OutputTail {

    private final byte[] ring;
    private long written;

    OutputTail(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("the output limit must be at least 1 byte, was " + limit);
        }
        this.ring = new byte[limit];
    }

    synchronized void append(byte[] bytes, int offset, int length) {
        if (length >= ring.length) {
            // only the end of this chunk can survive
            offset += length - ring.length;
            written += length - ring.length;
            length = ring.length;
        }
        int at = (int) (written % ring.length);
        int first = Math.min(length, ring.length - at);
        System.arraycopy(bytes, offset, ring, at, first);
        System.arraycopy(bytes, offset + first, ring, 0, length - first);
        written += length;
    }

    void append(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        append(bytes, 0, bytes.length);
    }

    /** Bytes appended in all, kept or not. */
    synchronized long written() {
        return written;
    }

    /**
     * The kept output as text. When the beginning was cut, the text starts with a line saying how many bytes were
     * left out, then the first complete line that was kept.
     */
    synchronized String text() {
        if (written <= ring.length) {
            return new String(ring, 0, (int) written, StandardCharsets.UTF_8);
        }
        byte[] kept = new byte[ring.length];
        int at = (int) (written % ring.length);
        System.arraycopy(ring, at, kept, 0, ring.length - at);
        System.arraycopy(ring, 0, kept, ring.length - at, at);
        int start = 0;
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] == '\n') {
                start = i + 1;
                break;
            }
        }
        long omitted = written - kept.length + start;
        return "[... " + omitted + " bytes of earlier output left out]\n"
                + new String(kept, start, kept.length - start, StandardCharsets.UTF_8);
    }
}
