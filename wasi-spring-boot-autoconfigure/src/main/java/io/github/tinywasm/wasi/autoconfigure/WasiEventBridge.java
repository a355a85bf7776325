package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.Subscription;
import io.github.tinywasm.wasi.WasiServer;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridges the bus and Spring's ApplicationEvents: each message a guest publishes becomes a
 * {@link WasiMessageEvent}; each {@link WasiOutboundMessage} the application publishes goes to the bus.
 *
 * <p>Loops are impossible by construction: only messages whose source is a guest module become events, and
 * what the bridge publishes has no module as its source. Events are published on the bridge's own mailbox, by a
 * thread of the Java subscribers' pool ({@code wasi-subscriber-N}, never a guest's worker), one at a time in bus
 * order, so a slow listener delays neither guests nor publishers (up to the mailbox capacity); what it drops is
 * counted ({@link WasiServer#subscriberDrops()}, {@code wasi.subscriber.messages.dropped}).
 *
 * <p>Life cycle: the bridge subscribes to the bus when it starts, in phase {@link #PHASE}, just before the
 * {@link WasiServerLifecycle} loads the modules, and unsubscribes after they were drained, then waits (up to the drain
 * timeout) until what it accepted has become events: nothing a guest publishes while the context runs is missed. It is never lazily initialised (see {@link WasiAutoConfiguration}). Threads:
 * {@link #start()} and {@link #stop()} are called by Spring's lifecycle processor; the subscription is volatile.
 */
public class WasiEventBridge implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WasiEventBridge.class);

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

    /**
     * Unsubscribes, then lets the listeners receive, as events, the guest messages the bridge had already accepted:
     * it waits for that up to the drain timeout ({@code tinywasm.wasi.drain-timeout}), then drops what is left, counted
     * ({@code wasi.subscriber.messages.dropped}, reason {@code closed}) and logged with its count. {@link #isRunning()}
     * is false from the start of the stop.
     */
    @Override
    public void stop() {
        Subscription s = subscription;
        subscription = null;
        if (s != null) {
            Duration timeout = server.config().drainTimeout();
            int left = s.drainAndClose(timeout);
            if (left > 0) {
                log.warn("WASI event bridge stopped with {} guest message(s) not yet published as events after the drain "
                        + "timeout of {} ms: dropped (counted as closed)", left, timeout.toMillis());
            }
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
