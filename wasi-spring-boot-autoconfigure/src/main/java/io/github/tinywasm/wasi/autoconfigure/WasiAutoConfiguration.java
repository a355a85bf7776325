package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import java.time.Duration;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of tinywasm-wasi: the {@link WasiServer} built from {@link WasiProperties}, its life
 * cycle, the {@link WasiPublisher}, and the bridge to ApplicationEvents. Every bean backs off when the
 * application defines its own.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
@EnableConfigurationProperties(WasiProperties.class)
public final class WasiAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    WasiServer wasiServer(WasiProperties properties, ObjectProvider<WebSocketBroadcaster> broadcaster,
            ObjectProvider<WasiListener> listeners) {
        // Every broadcaster bean hears every ws_broadcast: the WebSocket endpoint, and any of the application's own.
        List<WebSocketBroadcaster> all = broadcaster.orderedStream().toList();
        WebSocketBroadcaster target = switch (all.size()) {
            case 0 -> WebSocketBroadcaster.NONE;
            case 1 -> all.get(0);
            default -> (module, topic, payload) -> all.forEach(b -> b.broadcast(module, topic, payload));
        };
        WasiServer server = new WasiServer(properties.toConfig(), target);
        listeners.orderedStream().forEach(server::addListener);
        return server;
    }

    @Bean
    @ConditionalOnMissingBean
    WasiServerLifecycle wasiServerLifecycle(WasiServer server, Environment environment) {
        Duration phaseTimeout = environment.getProperty("spring.lifecycle.timeout-per-shutdown-phase", Duration.class,
                Duration.ofSeconds(30));
        return new WasiServerLifecycle(server, phaseTimeout);
    }

    @Bean
    @ConditionalOnMissingBean
    WasiPublisher wasiPublisher(WasiServer server) {
        return new WasiPublisher(server);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "tinywasm.wasi.events.enabled", matchIfMissing = true)
    WasiEventBridge wasiEventBridge(WasiServer server, ApplicationEventPublisher publisher) {
        return new WasiEventBridge(server, publisher);
    }
}
