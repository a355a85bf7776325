package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WasiServer;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Turns the server's deploy events into ApplicationEvents: a rollback becomes a {@link WasiModuleRolledBackEvent}.
 * Registered on the server as a {@link WasiListener} bean. Thread-safe: it holds nothing but the publisher; the server
 * is looked up when the first event comes (the server is built with this listener).
 */
public class WasiDeployEvents implements WasiListener {

    private final ApplicationEventPublisher publisher;
    private final BeanFactory beans;

    public WasiDeployEvents(ApplicationEventPublisher publisher, BeanFactory beans) {
        this.publisher = publisher;
        this.beans = beans;
    }

    @Override
    public void moduleRolledBack(String module, boolean automatic, String fromSha256, String toSha256, String reason) {
        publisher.publishEvent(new WasiModuleRolledBackEvent(beans.getBean(WasiServer.class), module, automatic,
                fromSha256, toSha256, reason));
    }
}
