package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;

/**
 * Spring MVC side of the handshake of {@code /ws}. Reads the {@code topic} query parameter before the upgrade:
 * none or empty gets HTTP 400, a topic the {@link TopicAccessPolicy} denies gets HTTP 403; otherwise the decoded
 * topic goes into the session's attributes under {@link #TOPIC_ATTRIBUTE}, and {@code since}, if given, under
 * {@link #SINCE_ATTRIBUTE}.
 */
public class TopicHandshakeInterceptor implements HandshakeInterceptor {

    /** Session attribute holding the decoded topic. */
    public static final String TOPIC_ATTRIBUTE = TopicHandshakeInterceptor.class.getName() + ".topic";
    /** Session attribute holding the offset the client resumes after ({@code since}), when it gave one. */
    public static final String SINCE_ATTRIBUTE = TopicHandshakeInterceptor.class.getName() + ".since";

    private static final Logger log = LoggerFactory.getLogger(TopicHandshakeInterceptor.class);

    private final TopicAccessPolicy policy;

    public TopicHandshakeInterceptor(TopicAccessPolicy policy) {
        this.policy = policy;
    }

    @Override
    public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
            Map<String, Object> attributes) {
        TopicQuery query = TopicQuery.of(request.getURI());
        String topic = query.topic();
        if (topic == null) {
            return refuse(response, HttpStatus.BAD_REQUEST, String.valueOf(query.refusal()));
        }
        TopicAccessRequest access = new TopicAccessRequest(topic, request.getURI(),
                HttpHeaders.readOnlyHttpHeaders(request.getHeaders()), request.getPrincipal(), request.getRemoteAddress());
        if (!policy.allows(access)) {
            log.info("WebSocket handshake from {} denied for topic '{}'", request.getRemoteAddress(), topic);
            return refuse(response, HttpStatus.FORBIDDEN, "topic not allowed");
        }
        attributes.put(TOPIC_ATTRIBUTE, topic);
        if (query.since() != null) {
            attributes.put(SINCE_ATTRIBUTE, query.since());
        }
        return true;
    }

    private static boolean refuse(ServerHttpResponse response, HttpStatus status, String reason) {
        response.setStatusCode(status);
        response.getHeaders().setContentType(MediaType.TEXT_PLAIN);
        try {
            response.getBody().write((reason + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            log.debug("cannot write handshake refusal: {}", e.toString());
        }
        return false;
    }

    @Override
    public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
            @Nullable Exception exception) {
    }
}
