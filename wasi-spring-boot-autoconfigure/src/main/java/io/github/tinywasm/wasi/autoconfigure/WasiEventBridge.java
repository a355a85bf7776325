package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.Subscription;
import io.github.tinywasm.wasi.WasiServer;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;

/**
 * Bridges the bus and Spring's ApplicationEvents: each message a guest publishes becomes a
 * {@link WasiMessageEvent}; each {@link WasiOutboundMessage} the application publishes goes to the bus.
 *
 * <p>Loops are impossible by construction: only messages whose source is a guest module become events, and
 * what the bridge publishes has no module as its source. Events are published on the bridge's own mailbox
 * thread, one at a time in bus order, so a slow listener delays neither guests nor publishers (up to the
 * mailbox capacity).
 *
 * <p>Life cycle: the bridge subscribes to the bus when it starts, in phase {@link #PHASE}, just before the
 * {@link WasiServerLifecycle} loads the modules, and unsubscribes after they were drained: nothing a guest publishes
 * while the context runs is missed. It is never lazily initialised (see {@link WasiAutoConfiguration}). Threads:
 * {@link #start()} and {@link #stop()} are called by Spring's lifecycle processor; the subscription is volatile.
 */
public class WasiEventBridge implements SmartLifecycle {

    /** Before the server starts, after it stops. */
    public static final int PHASE = WasiServerLifecycle.PHASE - 1;

    private final WasiServer server;
    private final ApplicationEventPublisher publisher;
    private final @Nullable WasiPayloadConverter converter;
    private volatile @Nullable Subscription subscription;

    public WasiEventBridge(WasiServer server, ApplicationEventPublisher publisher) {
        this(server, publisher, null);
    }

    /**
     * @param converter reads typed payloads of the events ({@link WasiMessageEvent#getPayload(Class)}), or
     *     {@code null} for bytes and text only
     */
    public WasiEventBridge(WasiServer server, ApplicationEventPublisher publisher,
            @Nullable WasiPayloadConverter converter) {
        this.server = server;
        this.publisher = publisher;
        this.converter = converter;
    }

    @Override
    public void start() {
        if (subscription == null) {
            subscription = server.subscribeAll(this::fromBus);
        }
    }

    private void fromBus(Message message) {
        if (message.fromGuest()) {
            publisher.publishEvent(new WasiMessageEvent(server, message, converter));
        }
    }

    /** Publishes an application's {@link WasiOutboundMessage} on the bus. */
    @EventListener
    public void toBus(WasiOutboundMessage outbound) {
        server.publish(outbound.message());
    }

    @Override
    public void stop() {
        Subscription s = subscription;
        subscription = null;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public boolean isRunning() {
        return subscription != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
