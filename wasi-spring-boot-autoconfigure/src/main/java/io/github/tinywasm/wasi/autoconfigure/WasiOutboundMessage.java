package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;

/**
 * An event the application publishes (with {@code ApplicationEventPublisher.publishEvent}) to send a message
 * to the guests subscribed to its topic. The bridge publishes it on the bus; it never comes back as a
 * {@link WasiMessageEvent}.
 *
 * @param message the message to publish
 */
public record WasiOutboundMessage(Message message) {

    /** A message with {@code payload} (copied) on {@code topic}. */
    public static WasiOutboundMessage of(String topic, byte[] payload) {
        return new WasiOutboundMessage(Message.of(topic, payload));
    }

    /** A message with the UTF-8 bytes of {@code text} on {@code topic}. */
    public static WasiOutboundMessage of(String topic, String text) {
        return new WasiOutboundMessage(Message.of(topic, text));
    }
}
