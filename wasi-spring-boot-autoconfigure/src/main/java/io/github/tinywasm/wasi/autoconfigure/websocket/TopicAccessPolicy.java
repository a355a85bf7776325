package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.security.Principal;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.ServerHttpRequest;

/**
 * Decides whether a WebSocket handshake may subscribe to a topic. Define a bean of this type to protect
 * topics, e.g. with Spring Security's principal; a denied handshake gets HTTP 403. The default allows all.
 */
@FunctionalInterface
public interface TopicAccessPolicy {

    /** Allows every topic. */
    TopicAccessPolicy ALLOW_ALL = (topic, request, principal) -> true;

    /**
     * @param topic the decoded {@code topic} query parameter, never empty
     * @param request the handshake request
     * @param principal the authenticated user, or {@code null}
     */
    boolean allows(String topic, ServerHttpRequest request, @Nullable Principal principal);
}
