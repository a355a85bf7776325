package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiServer;

/**
 * Injectable entry point for application code that sends messages to guests. Publishing only enqueues: it
 * never runs guest code on the caller's thread.
 */
public class WasiPublisher {

    private final WasiServer server;

    public WasiPublisher(WasiServer server) {
        this.server = server;
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
}
