package io.github.tinywasm.wasi.module;

/**
 * What the {@code env} imports of one guest instance do, once {@link HostBuilder} has read their arguments
 * out of guest memory. Called on the thread running the guest; implementations must not block for long and
 * must never call back into the same instance.
 */
public interface HostApi {

    /** {@code env.publish}: publish {@code payload} on {@code topic}. */
    void publish(String topic, byte[] payload);

    /** {@code env.subscribe}: subscribe this instance to {@code topic}. */
    void subscribe(String topic);

    /** {@code env.unsubscribe} (extension): stop receiving {@code topic}. */
    void unsubscribe(String topic);

    /** {@code env.ws_broadcast}: send {@code payload} to every WebSocket client of {@code topic}. */
    void wsBroadcast(String topic, byte[] payload);

    /** {@code env.log}: one UTF-8 log line from the guest. */
    void log(String message);
}
