package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.Subscription;
import io.github.tinywasm.wasi.WasiServer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.EventListener;

/**
 * Bridges the bus and Spring's ApplicationEvents: each message a guest publishes becomes a
 * {@link WasiMessageEvent}; each {@link WasiOutboundMessage} the application publishes goes to the bus.
 *
 * <p>Loops are impossible by construction: only messages whose source is a guest module become events, and
 * what the bridge publishes has no module as its source. Events are published on the bridge's own mailbox
 * thread, one at a time in bus order, so a slow listener delays neither guests nor publishers (up to the
 * mailbox capacity).
 */
public class WasiEventBridge implements InitializingBean, DisposableBean {

    private final WasiServer server;
    private final ApplicationEventPublisher publisher;
    private Subscription subscription;

    public WasiEventBridge(WasiServer server, ApplicationEventPublisher publisher) {
        this.server = server;
        this.publisher = publisher;
    }

    @Override
    public void afterPropertiesSet() {
        subscription = server.subscribeAll(this::fromBus);
    }

    private void fromBus(Message message) {
        if (message.fromGuest()) {
            publisher.publishEvent(new WasiMessageEvent(server, message));
        }
    }

    /** Publishes an application's {@link WasiOutboundMessage} on the bus. */
    @EventListener
    public void toBus(WasiOutboundMessage outbound) {
        server.publish(outbound.message());
    }

    @Override
    public void destroy() {
        if (subscription != null) {
            subscription.close();
        }
    }
}
