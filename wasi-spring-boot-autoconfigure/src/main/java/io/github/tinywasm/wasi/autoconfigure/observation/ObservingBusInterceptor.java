package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.Message;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/**
 * Observes the bus: each publish is a {@code tinywasm.bus.publish} observation whose trace context (when a tracer
 * is configured, through Micrometer Tracing's propagator: W3C {@code traceparent} by default) is added to the
 * message's headers; each delivery is a {@code tinywasm.bus.process} observation whose parent is read from them,
 * and which stays open on the worker thread while the subscriber handles the message. A guest's own publishes and
 * broadcasts, and the {@code @EventListener} methods the event bridge calls, therefore continue the trace.
 *
 * <p>Threads: {@link #beforePublish} runs on the publisher's thread, {@link #beforeProcess} and the scope it
 * returns on the subscriber's worker. Stateless apart from the registry; never throws into the bus.
 */
public class ObservingBusInterceptor implements BusInterceptor {

    private final ObservationRegistry registry;

    public ObservingBusInterceptor(ObservationRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Message beforePublish(Message message) {
        BusPublishContext context = new BusPublishContext(message);
        // publishing only enqueues: the observation covers the hand-over and gives the message its trace context
        Observation observation = Observation.createNotStarted(null, DefaultBusObservationConvention.PUBLISH,
                () -> context, registry).start();
        observation.stop();
        return message.withHeaders(context.headers());
    }

    @Override
    public Scope beforeProcess(@Nullable String module, Message message) {
        BusProcessContext context = new BusProcessContext(module, message);
        Observation observation = Observation.createNotStarted(null, DefaultBusObservationConvention.PROCESS,
                () -> context, registry).start();
        Observation.Scope scope = observation.openScope();
        return error -> {
            try {
                if (error != null) {
                    observation.error(error);
                }
                scope.close();
            } finally {
                observation.stop();
            }
        };
    }
}
