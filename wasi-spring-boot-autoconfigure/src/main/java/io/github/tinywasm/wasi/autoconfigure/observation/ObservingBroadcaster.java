package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

/**
 * A broadcaster that observes each {@code ws_broadcast} ({@code tinywasm.websocket.broadcast}) around its delegate.
 * Called on the worker running the guest, inside the {@code tinywasm.bus.process} observation of the message the
 * guest is handling, so the broadcast is its child.
 */
public class ObservingBroadcaster implements WebSocketBroadcaster {

    private final WebSocketBroadcaster delegate;
    private final ObservationRegistry registry;

    public ObservingBroadcaster(WebSocketBroadcaster delegate, ObservationRegistry registry) {
        this.delegate = delegate;
        this.registry = registry;
    }

    @Override
    public void broadcast(String module, String topic, byte[] payload) {
        BroadcastContext context = new BroadcastContext(module, topic, payload.length);
        Observation.createNotStarted(null, DefaultBusObservationConvention.BROADCAST, () -> context, registry)
                .observe(() -> delegate.broadcast(module, topic, payload));
    }
}
