package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.net.InetSocketAddress;
import java.net.URI;
import java.security.Principal;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;

/**
 * A WebSocket handshake asking for a topic, as a {@link TopicAccessPolicy} sees it, whatever the web stack.
 *
 * @param topic the decoded {@code topic} query parameter, never empty
 * @param uri the handshake request's URI
 * @param headers the handshake request's headers (read-only)
 * @param principal the authenticated user, or {@code null}
 * @param remoteAddress the client's address, or {@code null} if unknown
 */
public record TopicAccessRequest(
        String topic,
        URI uri,
        HttpHeaders headers,
        @Nullable Principal principal,
        @Nullable InetSocketAddress remoteAddress) {}
