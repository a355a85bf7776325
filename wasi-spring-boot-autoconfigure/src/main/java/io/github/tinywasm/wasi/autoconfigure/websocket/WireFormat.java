package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The two wire formats of {@code /ws}. By default (raw) a client receives each payload a guest broadcasts as one
 * binary frame, nothing else: the original's browsers keep working. A client that offers the WebSocket subprotocol
 * {@value #OFFSETS_PROTOCOL} (and sees it accepted) gets the offsets format:
 * <ul>
 *   <li>each payload as a binary frame {@code [n][offset: n ASCII bytes][payload]}, {@code n} one unsigned byte,
 *       the offset the token {@code ?since=} takes ({@link TopicOffset});
 *   <li>once per connection, after what it missed was replayed, one text frame with a JSON notice:
 *       {@code {"type":"live","topic":T,"offset":O,"replayed":N}} (live from here; {@code O} is the offset of the
 *       last frame before the live ones, to resume from if nothing else arrives), or
 *       {@code {"type":"reset","topic":T,"offset":O,"reason":R}} when {@code since} could not be resumed (reason
 *       {@code out-of-history}, {@code other-epoch} or {@code invalid}): nothing was replayed, the client should
 *       reload its state and goes on live after {@code O}.
 * </ul>
 * A client in the offsets format that falls behind by more than its send buffer is closed with
 * {@value #LAGGING} instead of silently losing frames: it reconnects with {@code ?since=} and resumes from the
 * history.
 */
public final class WireFormat {

    /** The WebSocket subprotocol of the offsets format. */
    public static final String OFFSETS_PROTOCOL = "tinywasm.offsets.v1";
    /** Close code for a client in the offsets format whose send buffer overflowed: reconnect with {@code since}. */
    public static final int LAGGING = 4001;

    private WireFormat() {}

    /** A payload with its offset, in the offsets format. */
    static byte[] withOffset(TopicOffset offset, byte[] payload) {
        byte[] token = offset.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] frame = new byte[1 + token.length + payload.length];
        frame[0] = (byte) token.length;
        System.arraycopy(token, 0, frame, 1, token.length);
        System.arraycopy(payload, 0, frame, 1 + token.length, payload.length);
        return frame;
    }

    /** The notice that the client is live after {@code offset}, having been sent {@code replayed} missed frames. */
    static WireFrame live(String topic, TopicOffset offset, int replayed) {
        return WireFrame.text("{\"type\":\"live\",\"topic\":" + json(topic) + ",\"offset\":" + json(offset.toString())
                + ",\"replayed\":" + replayed + "}");
    }

    /** The notice that {@code since} could not be resumed; live after {@code offset}. */
    static WireFrame reset(String topic, TopicOffset offset, String reason, @Nullable String requested) {
        return WireFrame.text("{\"type\":\"reset\",\"topic\":" + json(topic) + ",\"offset\":" + json(offset.toString())
                + ",\"reason\":" + json(reason) + (requested != null ? ",\"requested\":" + json(requested) : "") + "}");
    }

    /** {@code s} as a JSON string literal. */
    static String json(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
