package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.NoneNestedConditions;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.reactive.handler.SimpleUrlHandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.socket.server.HandshakeInterceptor;
import org.springframework.web.socket.server.support.DefaultHandshakeHandler;
import org.springframework.web.socket.server.support.OriginHandshakeInterceptor;
import org.springframework.web.socket.server.support.WebSocketHandlerMapping;
import org.springframework.web.socket.server.support.WebSocketHttpRequestHandler;
import reactor.core.publisher.Mono;

/**
 * Registers {@code /ws?topic=NAME} (path configurable) on the application's web stack, with the same behaviour on
 * each: Spring MVC with a JSR-356 container ({@code spring-boot-starter-websocket}) gets the
 * {@link TopicWebSocketHandler}, WebFlux ({@code spring-boot-starter-webflux}) the
 * {@link ReactiveTopicWebSocketHandler}; both feed one {@link TopicFanOut}, which also receives every guest's
 * {@code ws_broadcast}, behind an origin check and the {@link TopicAccessPolicy}. Each uses its own handler
 * mapping (order -2, upgrade requests only), so it needs no {@code @EnableWebSocket} and does not clash with the
 * application's own WebSocket configuration. A web application where {@code /ws} cannot be registered says why
 * in one INFO line at start-up; a non-web application has no {@code /ws} and no such line.
 */
@AutoConfiguration(before = WasiAutoConfiguration.class)
@ConditionalOnWebApplication
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
public final class WasiWebSocketAutoConfiguration {

    static final String ENABLED = "tinywasm.wasi.websocket.enabled";
    static final String JSR356_SERVER = "jakarta.websocket.server.ServerContainer";
    static final String SERVLET_HANDLER_MAPPING = "org.springframework.web.socket.server.support.WebSocketHandlerMapping";
    static final String REACTIVE_HANDSHAKE = "org.springframework.web.reactive.socket.server.support.HandshakeWebSocketService";

    /** {@code /ws} on Spring MVC with a JSR-356 container. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = {SERVLET_HANDLER_MAPPING, JSR356_SERVER})
    @ConditionalOnBooleanProperty(name = ENABLED, matchIfMissing = true)
    @Import(TopicFanOutConfiguration.class)
    static class ServletWebSocketConfiguration {

        @Bean
        @ConditionalOnMissingBean
        TopicWebSocketHandler topicWebSocketHandler(TopicFanOut fanOut, WasiProperties properties) {
            return new TopicWebSocketHandler(fanOut, (int) properties.websocket().maxInboundMessageSize().toBytes());
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

    /** {@code /ws} on WebFlux. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @ConditionalOnClass(name = REACTIVE_HANDSHAKE)
    @ConditionalOnBooleanProperty(name = ENABLED, matchIfMissing = true)
    @Import(TopicFanOutConfiguration.class)
    static class ReactiveWebSocketConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ReactiveTopicWebSocketHandler reactiveTopicWebSocketHandler(TopicFanOut fanOut, WasiProperties properties) {
            return new ReactiveTopicWebSocketHandler(fanOut, (int) properties.websocket().maxInboundMessageSize().toBytes());
        }

        @Bean
        @ConditionalOnMissingBean
        ReactiveTopicHandshakeHandler reactiveTopicHandshakeHandler(ReactiveTopicWebSocketHandler handler,
                TopicAccessPolicy policy, WasiProperties properties) {
            WasiProperties.WebSocket ws = properties.websocket();
            return new ReactiveTopicHandshakeHandler(handler, policy, ws.allowedOrigins(),
                    (int) ws.maxInboundMessageSize().toBytes());
        }

        @Bean
        @ConditionalOnMissingBean(name = "wasiWebSocketHandlerMapping")
        SimpleUrlHandlerMapping wasiWebSocketHandlerMapping(ReactiveTopicHandshakeHandler handshake,
                WasiProperties properties) {
            return new UpgradeRequestHandlerMapping(Map.of(properties.websocket().path(), handshake), -2);
        }
    }

    /** A URL mapping that only matches WebSocket upgrade requests, like Spring MVC's {@code WebSocketHandlerMapping}. */
    static final class UpgradeRequestHandlerMapping extends SimpleUrlHandlerMapping {

        UpgradeRequestHandlerMapping(Map<String, ?> urlMap, int order) {
            super(urlMap, order);
        }

        @Override
        public Mono<Object> getHandlerInternal(ServerWebExchange exchange) {
            ServerHttpRequest request = exchange.getRequest();
            if (!"websocket".equalsIgnoreCase(request.getHeaders().getUpgrade())) {
                return Mono.empty();
            }
            return super.getHandlerInternal(exchange);
        }
    }

    /** A Spring MVC application where {@code /ws} cannot be registered: say why. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @Conditional(ServletWebSocketUnavailable.class)
    static class ServletWebSocketUnavailableConfiguration {

        @Bean
        WebSocketUnavailableNotice wasiWebSocketUnavailableNotice(Environment environment) {
            return new WebSocketUnavailableNotice(environment, "this Spring MVC application has no JSR-356 WebSocket"
                    + " container (add org.springframework.boot:spring-boot-starter-websocket)");
        }
    }

    /** A WebFlux application where {@code /ws} cannot be registered: say why. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
    @Conditional(ReactiveWebSocketUnavailable.class)
    static class ReactiveWebSocketUnavailableConfiguration {

        @Bean
        WebSocketUnavailableNotice wasiWebSocketUnavailableNotice(Environment environment) {
            return new WebSocketUnavailableNotice(environment, "this WebFlux application has no reactive WebSocket"
                    + " support (spring-webflux's org.springframework.web.reactive.socket is missing)");
        }
    }

    static final class ServletWebSocketUnavailable extends NoneNestedConditions {

        ServletWebSocketUnavailable() {
            super(ConfigurationPhase.PARSE_CONFIGURATION);
        }

        @ConditionalOnClass(name = {SERVLET_HANDLER_MAPPING, JSR356_SERVER})
        @ConditionalOnBooleanProperty(name = ENABLED, matchIfMissing = true)
        static class Available {
        }
    }

    static final class ReactiveWebSocketUnavailable extends NoneNestedConditions {

        ReactiveWebSocketUnavailable() {
            super(ConfigurationPhase.PARSE_CONFIGURATION);
        }

        @ConditionalOnClass(name = REACTIVE_HANDSHAKE)
        @ConditionalOnBooleanProperty(name = ENABLED, matchIfMissing = true)
        static class Available {
        }
    }

    /** Logs, once the context is up, why this web application has no {@code /ws}. */
    static final class WebSocketUnavailableNotice implements SmartInitializingSingleton {

        private static final Logger log = LoggerFactory.getLogger(WasiWebSocketAutoConfiguration.class);

        private final String reason;

        WebSocketUnavailableNotice(Environment environment, String missingSupport) {
            this.reason = environment.getProperty(ENABLED, Boolean.class, true) ? missingSupport : ENABLED + " is false";
        }

        String reason() {
            return reason;
        }

        @Override
        public void afterSingletonsInstantiated() {
            log.info("tinywasm-wasi WebSocket endpoint not registered: {}; guests' ws_broadcast frames reach no client",
                    reason);
        }
    }
}
