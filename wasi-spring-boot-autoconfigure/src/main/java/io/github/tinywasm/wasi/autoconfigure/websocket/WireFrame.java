package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.nio.charset.StandardCharsets;

/**
 * One WebSocket frame as the fan-out queues it for its clients: binary (a guest's payload, with its offset in the
 * offsets format) or text (a notice of the offsets format). One instance is shared by every client it goes to.
 *
 * @param bytes the frame's payload (for a text frame: UTF-8); never changed
 * @param text whether it is a text frame
 */
record WireFrame(byte[] bytes, boolean text) {

    static WireFrame binary(byte[] bytes) {
        return new WireFrame(bytes, false);
    }

    static WireFrame text(String text) {
        return new WireFrame(text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** The text of a text frame. */
    String asText() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    int size() {
        return bytes.length;
    }
}
