package io.github.tinywasm.wasi;

/**
 * Receives every {@code ws_broadcast(topic, payload)} a guest makes. The Spring module implements it with
 * the WebSocket sessions of {@code /ws?topic=}. Called on the thread running the guest: implementations must
 * only enqueue, never block on a client.
 */
@FunctionalInterface
public interface WebSocketBroadcaster {

    /** Does nothing: for a server without WebSocket clients. */
    WebSocketBroadcaster NONE = (module, topic, payload) -> {};

    /**
     * @param module name of the broadcasting module
     * @param topic the topic whose clients receive the frame
     * @param payload the frame's bytes (owned by the callee)
     */
    void broadcast(String module, String topic, byte[] payload);
}
