package io.github.tinywasm.wasi.autoconfigure.observation;

import io.micrometer.observation.Observation;

/** Context of {@code tinywasm.websocket.broadcast}: a guest's {@code ws_broadcast} to the clients of a topic. */
public class BroadcastContext extends Observation.Context implements BusObservationContext {

    private final String module;
    private final String topic;
    private final int size;

    public BroadcastContext(String module, String topic, int size) {
        this.module = module;
        this.topic = topic;
        this.size = size;
    }

    @Override
    public String operation() {
        return "broadcast";
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public String module() {
        return module;
    }

    /** Bytes broadcast. */
    public int size() {
        return size;
    }
}
