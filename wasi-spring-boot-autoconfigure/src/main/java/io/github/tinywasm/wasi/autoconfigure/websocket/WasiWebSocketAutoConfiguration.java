package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.socket.server.support.DefaultHandshakeHandler;
import org.springframework.web.socket.server.support.OriginHandshakeInterceptor;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;
import org.springframework.web.socket.server.support.WebSocketHttpRequestHandler;

/**
 * Registers {@code /ws?topic=NAME} (path configurable) in a servlet web application with a JSR-356
 * container: the {@link TopicWebSocketHandler}, which also receives every guest's {@code ws_broadcast}, behind
 * an origin check and the {@link TopicAccessPolicy}. Uses its own handler mapping, so it needs no
 * {@code @EnableWebSocket} and does not clash with the application's own WebSocket configuration.
 */
@AutoConfiguration(before = WasiAutoConfiguration.class)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass(value = {WebSocketHandler.class, WebSocketHandlerMapping.class},
        name = "jakarta.websocket.server.ServerContainer")
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.websocket.enabled", matchIfMissing = true)
public final class WasiWebSocketAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    TopicWebSocketHandler topicWebSocketHandler(WasiProperties properties) {
        WasiProperties.WebSocket ws = properties.websocket();
        return new TopicWebSocketHandler(ws.sendBufferSize().toBytes(), ws.sendTimeLimit(),
                (int) ws.maxInboundMessageSize().toBytes());
    }

    @Bean
    @ConditionalOnMissingBean
    TopicAccessPolicy topicAccessPolicy() {
        return TopicAccessPolicy.ALLOW_ALL;
    }

    @Bean
    @ConditionalOnMissingBean(name = "wasiWebSocketHandlerMapping")
    WebSocketHandlerMapping wasiWebSocketHandlerMapping(TopicWebSocketHandler handler, TopicAccessPolicy policy,
            WasiProperties properties) {
        WasiProperties.WebSocket ws = properties.websocket();
        List<HandshakeInterceptor> interceptors = new ArrayList<>();
        // Origin first: a foreign page must not learn which topics exist. Empty list = same origin only.
        interceptors.add(new OriginHandshakeInterceptor(ws.allowedOrigins()));
        interceptors.add(new TopicHandshakeInterceptor(policy));
        WebSocketHttpRequestHandler requestHandler = new WebSocketHttpRequestHandler(handler, new DefaultHandshakeHandler());
        requestHandler.setHandshakeInterceptors(interceptors);
        WebSocketHandlerMapping mapping = new WebSocketHandlerMapping();
        mapping.setUrlMap(Map.of(ws.path(), requestHandler));
        mapping.setOrder(-2);
        mapping.setWebSocketUpgradeMatch(true);
        return mapping;
    }
}
