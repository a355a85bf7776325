package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.util.ClassUtils;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.reactive.CorsUtils;
import org.springframework.web.reactive.socket.server.WebSocketService;
import org.springframework.web.reactive.socket.server.support.HandshakeWebSocketService;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Mono;

/**
 * WebFlux side of the handshake of {@code /ws}, with the same rules as on Spring MVC: a foreign {@code Origin}
 * gets HTTP 403 (same origin only unless {@code allowed-origins} says otherwise; requests without an
 * {@code Origin} header are not checked), no or an empty {@code topic} gets 400, a topic the
 * {@link TopicAccessPolicy} denies gets 403; otherwise the request is upgraded and the session goes to the
 * {@link ReactiveTopicWebSocketHandler} with its topic.
 *
 * <p>On Reactor Netty the upgrade refuses inbound frames above the size limit, and the session can be aborted
 * (its TCP connection closed) without waiting for a close frame that a stalled client would never take.
 */
public class ReactiveTopicHandshakeHandler implements WebHandler {

    static final boolean REACTOR_NETTY_PRESENT = ClassUtils.isPresent("reactor.netty.http.server.HttpServerRequest",
            ReactiveTopicHandshakeHandler.class.getClassLoader());

    private static final Logger log = LoggerFactory.getLogger(ReactiveTopicHandshakeHandler.class);

    private final ReactiveTopicWebSocketHandler handler;
    private final TopicAccessPolicy policy;
    private final CorsConfiguration origins = new CorsConfiguration();
    private final int maxInboundMessageSize;
    private volatile @Nullable WebSocketService nettyService;
    private volatile @Nullable WebSocketService defaultService;

    /**
     * @param handler receives the upgraded sessions
     * @param policy decides which topics a handshake may subscribe to
     * @param allowedOrigins origins allowed besides the same origin ({@code *} for any)
     * @param maxInboundMessageSize largest frame a client may send, in bytes
     */
    public ReactiveTopicHandshakeHandler(ReactiveTopicWebSocketHandler handler, TopicAccessPolicy policy,
            List<String> allowedOrigins, int maxInboundMessageSize) {
        this.handler = handler;
        this.policy = policy;
        this.origins.setAllowedOrigins(allowedOrigins);
        this.maxInboundMessageSize = maxInboundMessageSize;
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange) {
        ServerHttpRequest request = exchange.getRequest();
        String origin = request.getHeaders().getOrigin();
        // origin first: a foreign page must not learn which topics exist
        if (origin != null && CorsUtils.isCorsRequest(request) && origins.checkOrigin(origin) == null) {
            log.debug("WebSocket handshake from {} refused: origin {} not allowed", request.getRemoteAddress(), origin);
            return refuse(exchange.getResponse(), HttpStatus.FORBIDDEN, "origin not allowed");
        }
        TopicQuery query = TopicQuery.of(request.getURI());
        String topic = query.topic();
        if (topic == null) {
            return refuse(exchange.getResponse(), HttpStatus.BAD_REQUEST, String.valueOf(query.refusal()));
        }
        return exchange.getPrincipal().map(Optional::of).defaultIfEmpty(Optional.empty()).flatMap(principal -> {
            TopicAccessRequest access = new TopicAccessRequest(topic, request.getURI(),
                    HttpHeaders.readOnlyHttpHeaders(request.getHeaders()), principal.orElse(null),
                    request.getRemoteAddress());
            if (!policy.allows(access)) {
                log.info("WebSocket handshake from {} denied for topic '{}'", request.getRemoteAddress(), topic);
                return refuse(exchange.getResponse(), HttpStatus.FORBIDDEN, "topic not allowed");
            }
            Runnable aborter = REACTOR_NETTY_PRESENT ? ReactorNettySupport.aborter(request) : null;
            return service(aborter != null).handleRequest(exchange, handler.forClient(topic, query.since(), aborter));
        });
    }

    private WebSocketService service(boolean reactorNetty) {
        WebSocketService service = reactorNetty ? nettyService : defaultService;
        if (service == null) {
            HandshakeWebSocketService created = reactorNetty
                    ? ReactorNettySupport.webSocketService(maxInboundMessageSize) : new HandshakeWebSocketService();
            created.start();
            if (reactorNetty) {
                nettyService = created;
            } else {
                defaultService = created;
            }
            service = created;
        }
        return service;
    }

    private static Mono<Void> refuse(ServerHttpResponse response, HttpStatus status, String reason) {
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.TEXT_PLAIN);
        byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
    }
}
