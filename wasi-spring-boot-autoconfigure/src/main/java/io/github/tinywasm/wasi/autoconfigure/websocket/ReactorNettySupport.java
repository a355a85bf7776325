package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.reactive.socket.server.support.HandshakeWebSocketService;
import org.springframework.web.reactive.socket.server.upgrade.ReactorNettyRequestUpgradeStrategy;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * What the WebFlux endpoint needs from Reactor Netty, kept apart so that nothing loads Reactor Netty's classes
 * when it is absent (callers check {@link ReactiveTopicHandshakeHandler#REACTOR_NETTY_PRESENT} first).
 */
final class ReactorNettySupport {

    private ReactorNettySupport() {}

    /** A handshake service whose sessions refuse frames above {@code maxFrame} bytes (1009). */
    static HandshakeWebSocketService webSocketService(int maxFrame) {
        return new HandshakeWebSocketService(new ReactorNettyRequestUpgradeStrategy(
                () -> WebsocketServerSpec.builder().maxFramePayloadLength(maxFrame)));
    }

    /** Closes the request's TCP connection at once when run, or {@code null} when it is not on Reactor Netty. */
    static @Nullable Runnable aborter(ServerHttpRequest request) {
        Object nativeRequest;
        try {
            nativeRequest = ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!(nativeRequest instanceof HttpServerRequest reactorRequest)) {
            return null;
        }
        AtomicReference<@Nullable Channel> channel = new AtomicReference<>();
        reactorRequest.withConnection(connection -> channel.set(connection.channel()));
        Channel c = channel.get();
        return c == null ? null : () -> c.close();
    }
}
