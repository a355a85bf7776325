package io.github.tinywasm.wasi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable message on the bus: a topic, an optional type and correlation id, the name of the module
 * that published it ({@code null} when it came from Java), and the payload bytes.
 *
 * <p>The payload is copied once when the message is created; {@link #payload()} returns a copy and
 * {@link #payloadBuffer()} a read-only view, so nobody can change a message another subscriber sees.
 */
public final class Message {

    private final String topic;
    private final String type;
    private final String correlationId;
    private final String source;
    private final byte[] payload;

    private Message(String topic, String type, String correlationId, String source, byte[] payload) {
        this.topic = requireTopic(topic);
        this.type = type;
        this.correlationId = correlationId;
        this.source = source;
        this.payload = payload;
    }

    /** A message from Java with the given payload (copied). */
    public static Message of(String topic, byte[] payload) {
        return new Message(topic, null, null, null, Objects.requireNonNull(payload, "payload").clone());
    }

    /** A message from Java whose payload is the UTF-8 encoding of {@code text}. */
    public static Message of(String topic, String text) {
        return new Message(topic, null, null, null, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A message from Java with a type and correlation id (either may be {@code null}). */
    public static Message of(String topic, String type, String correlationId, byte[] payload) {
        return new Message(topic, type, correlationId, null, Objects.requireNonNull(payload, "payload").clone());
    }

    /** A message a guest published; {@code payload} was freshly read from guest memory and is not copied. */
    static Message fromGuest(String module, String topic, byte[] payload) {
        return new Message(topic, null, null, module, payload);
    }

    static String requireTopic(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        return topic;
    }

    public String topic() {
        return topic;
    }

    /** Application-defined type, or {@code null}. Guests cannot set it (ABI v1). */
    public String type() {
        return type;
    }

    /** Application-defined correlation id, or {@code null}. */
    public String correlationId() {
        return correlationId;
    }

    /** Name of the module that published this message, or {@code null} if it was published from Java. */
    public String source() {
        return source;
    }

    /** Whether a guest module published this message. */
    public boolean fromGuest() {
        return source != null;
    }

    /** A copy of the payload. */
    public byte[] payload() {
        return payload.clone();
    }

    /** A read-only view of the payload, without copying. */
    public ByteBuffer payloadBuffer() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    /** The payload decoded as UTF-8. */
    public String payloadAsString() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    public int payloadSize() {
        return payload.length;
    }

    /** The payload array itself, for the engine's own copies into guest memory. Never handed out. */
    byte[] payloadArray() {
        return payload;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Message m
                && topic.equals(m.topic)
                && Objects.equals(type, m.type)
                && Objects.equals(correlationId, m.correlationId)
                && Objects.equals(source, m.source)
                && Arrays.equals(payload, m.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, type, correlationId, source, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "Message[topic=" + topic + ", source=" + source + ", type=" + type + ", correlationId="
                + correlationId + ", " + payload.length + " bytes]";
    }
}
