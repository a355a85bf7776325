package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEvent;

/**
 * A message a guest module published, as an ApplicationEvent. Receive it with
 * {@code @EventListener}; filter by topic with {@code @EventListener(condition = "#event.topic == 'orders'")}.
 *
 * <p>Published on a bus worker thread, in the order the guests published. Only guest messages become events:
 * what the application publishes is never echoed back.
 */
public class WasiMessageEvent extends ApplicationEvent {

    private final transient Message message;
    private final transient @Nullable WasiPayloadConverter converter;

    public WasiMessageEvent(Object source, Message message) {
        this(source, message, null);
    }

    /** @param converter reads {@link #getPayload(Class)}, or {@code null} for bytes and text only */
    public WasiMessageEvent(Object source, Message message, @Nullable WasiPayloadConverter converter) {
        super(source);
        this.message = message;
        this.converter = converter;
    }

    /** The bus message. */
    public Message getMessage() {
        return message;
    }

    public String getTopic() {
        return message.topic();
    }

    /** Name of the module that published it. */
    public @Nullable String getModule() {
        return message.source();
    }

    /** A copy of the payload. */
    public byte[] getPayload() {
        return message.payload();
    }

    /** The payload decoded as UTF-8. */
    public String getPayloadAsString() {
        return message.payloadAsString();
    }

    /**
     * The payload read as {@code type}: JSON with the application's Jackson {@code JsonMapper} by default
     * ({@code null} for a JSON {@code null}).
     * {@code String.class} and {@code byte[].class} need no converter.
     *
     * @throws IllegalStateException if there is no converter (Jackson is not on the class path and no
     *     {@link WasiPayloadConverter} bean is defined)
     * @throws RuntimeException the converter's exception if the payload cannot be read as {@code type} (Jackson's
     *     {@code JacksonException} for JSON)
     */
    public <T> @Nullable T getPayload(Class<T> type) {
        if (type == String.class) {
            return type.cast(getPayloadAsString());
        }
        if (type == byte[].class) {
            return type.cast(getPayload());
        }
        return WasiPublisher.requireConverter(converter).read(message.payload(), type);
    }

    @Override
    public String toString() {
        return "WasiMessageEvent[topic=" + getTopic() + ", module=" + getModule() + ", " + message.payloadSize() + " bytes]";
    }
}
