package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiServer;
import org.jspecify.annotations.Nullable;

/**
 * Injectable entry point for application code that sends messages to guests. Publishing only enqueues: it
 * never runs guest code on the caller's thread. Thread-safe.
 */
public class WasiPublisher {

    private final WasiServer server;
    private final @Nullable WasiPayloadConverter converter;

    public WasiPublisher(WasiServer server) {
        this(server, null);
    }

    /** @param converter writes the payloads of {@link #publishObject}, or {@code null} for bytes and text only */
    public WasiPublisher(WasiServer server, @Nullable WasiPayloadConverter converter) {
        this.server = server;
        this.converter = converter;
    }

    /** Publishes {@code payload} (copied) on {@code topic}. */
    public void publish(String topic, byte[] payload) {
        server.publish(topic, payload);
    }

    /** Publishes the UTF-8 bytes of {@code text} on {@code topic}. */
    public void publish(String topic, String text) {
        server.publish(topic, text);
    }

    /** Publishes a message with a type and correlation id. */
    public void publish(Message message) {
        server.publish(message);
    }

    /**
     * Publishes {@code value} written by the {@link WasiPayloadConverter}: JSON with the application's Jackson
     * {@code JsonMapper} by default.
     *
     * @throws IllegalStateException if there is no converter (Jackson is not on the class path and no
     *     {@link WasiPayloadConverter} bean is defined)
     */
    public void publishObject(String topic, Object value) {
        server.publish(topic, requireConverter(converter).write(value));
    }

    static WasiPayloadConverter requireConverter(@Nullable WasiPayloadConverter converter) {
        if (converter == null) {
            throw new IllegalStateException("No WasiPayloadConverter: add Jackson (spring-boot-starter-jackson) for JSON"
                    + " payloads, or define a WasiPayloadConverter bean; bytes and text work without one");
        }
        return converter;
    }
}
