package io.github.tinywasm.wasi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import io.github.tinywasm.wasi.internal.MessageAccess;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An immutable message on the bus: a topic, an optional type and correlation id, the name of the module
 * that published it ({@code null} when it came from Java), headers, and the payload bytes.
 *
 * <p>The payload is copied once when the message is created; {@link #payload()} returns a copy and
 * {@link #payloadBuffer()} a read-only view, so nobody can change a message another subscriber sees.
 *
 * <p>Headers are the envelope's metadata (for example {@code traceparent}, put there by a
 * {@link BusInterceptor}); guests never see them. {@link #withHeader} returns a new message that shares the
 * payload.
 */
public final class Message {

    static {
        MessageAccess.install(new MessageAccess.Bridge() {
            @Override
            public byte[] payloadArray(Message message) {
                return message.payload;
            }

            @Override
            public Message fromGuest(String module, String topic, byte[] payload, Map<String, String> headers) {
                return new Message(topic, null, null, Objects.requireNonNull(module, "module"), headers, payload);
            }
        });
    }

    private final String topic;
    private final @Nullable String type;
    private final @Nullable String correlationId;
    private final @Nullable String source;
    private final Map<String, String> headers;
    private final byte[] payload;

    private Message(String topic, @Nullable String type, @Nullable String correlationId, @Nullable String source, Map<String, String> headers,
            byte[] payload) {
        this.topic = requireTopic(topic);
        this.type = type;
        this.correlationId = correlationId;
        this.source = source;
        this.headers = headers;
        this.payload = payload;
    }

    /** A message from Java with the given payload (copied). */
    public static Message of(String topic, byte[] payload) {
        return new Message(topic, null, null, null, Map.of(), Objects.requireNonNull(payload, "payload").clone());
    }

    /** A message from Java whose payload is the UTF-8 encoding of {@code text}. */
    public static Message of(String topic, String text) {
        return new Message(topic, null, null, null, Map.of(), text.getBytes(StandardCharsets.UTF_8));
    }

    /** A message from Java with a type and correlation id (either may be {@code null}). */
    public static Message of(String topic, @Nullable String type, @Nullable String correlationId, byte[] payload) {
        return new Message(topic, type, correlationId, null, Map.of(), Objects.requireNonNull(payload, "payload").clone());
    }

    /**
     * This message with one more header (or a header replaced); the payload is shared, not copied.
     *
     * @param name header name, not empty
     * @param value header value
     */
    public Message withHeader(String name, String value) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("header name must not be empty");
        }
        Objects.requireNonNull(value, "value");
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new Message(topic, type, correlationId, source, Map.copyOf(more), payload);
    }

    /** This message with {@code extra} headers added (replacing those of the same name). */
    public Message withHeaders(Map<String, String> extra) {
        if (extra.isEmpty()) {
            return this;
        }
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.putAll(extra);
        return new Message(topic, type, correlationId, source, Map.copyOf(more), payload);
    }

    /**
     * Checks a topic name.
     *
     * @return the topic
     * @throws IllegalArgumentException if it is null or empty
     */
    public static String requireTopic(@Nullable String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        return topic;
    }

    public String topic() {
        return topic;
    }

    /** Application-defined type, or {@code null}. Guests cannot set it (ABI v1). */
    public @Nullable String type() {
        return type;
    }

    /** Application-defined correlation id, or {@code null}. */
    public @Nullable String correlationId() {
        return correlationId;
    }

    /** Name of the module that published this message, or {@code null} if it was published from Java. */
    public @Nullable String source() {
        return source;
    }

    /** Whether a guest module published this message. */
    public boolean fromGuest() {
        return source != null;
    }

    /** The envelope's headers (immutable, often empty). */
    public Map<String, String> headers() {
        return headers;
    }

    /** One header, or {@code null}. */
    public @Nullable String header(String name) {
        return headers.get(name);
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

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Message m
                && topic.equals(m.topic)
                && Objects.equals(type, m.type)
                && Objects.equals(correlationId, m.correlationId)
                && Objects.equals(source, m.source)
                && headers.equals(m.headers)
                && Arrays.equals(payload, m.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, type, correlationId, source, headers, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "Message[topic=" + topic + ", source=" + source + ", type=" + type + ", correlationId="
                + correlationId + (headers.isEmpty() ? "" : ", headers=" + headers.keySet()) + ", " + payload.length + " bytes]";
    }
}
