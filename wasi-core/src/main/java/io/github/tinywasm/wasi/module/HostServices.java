package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.policy.Capabilities;
import io.github.tinywasm.wasi.Message;
/**
 * What the host offers every guest instance: the bus and the WebSocket broadcaster. Called on the thread
 * running the guest; both only enqueue.
 */
interface HostServices {

    /** Publishes a message a guest produced. */
    void publish(Message message);

    /** Sends a guest's {@code ws_broadcast} to the broadcaster. */
    void broadcast(String module, String topic, byte[] payload);

    /** Counts a call its capabilities refused (it traps the guest's call). */
    default void denied(Capabilities.Call call, String topic) {}
}
