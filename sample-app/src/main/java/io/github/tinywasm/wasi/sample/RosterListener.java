package io.github.tinywasm.wasi.sample;

import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Receives the users module's roster as a Spring ApplicationEvent: guest to application, no WebSocket. */
@Component
class RosterListener {

    private static final Logger log = LoggerFactory.getLogger(RosterListener.class);

    private volatile String last = "(no request yet)";

    @EventListener(condition = "#event.topic == 'users.changed'")
    void onRoster(WasiMessageEvent event) {
        last = event.getPayloadAsString();
        log.info("roster from module '{}': {}", event.getModule(), last);
    }

    String last() {
        return last;
    }
}
