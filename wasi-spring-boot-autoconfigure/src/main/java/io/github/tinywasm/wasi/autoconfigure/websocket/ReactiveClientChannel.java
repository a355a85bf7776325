package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Flux;

/**
 * A WebFlux WebSocket session as a {@link ClientChannel}. A batch is one {@link WebSocketSession#send}: the
 * server writes its frames and flushes, and signals completion once, so the hand-off is per batch.
 *
 * <p>A close frame cannot overtake frames the client does not read, and the reactive close waits for it; so
 * aborting (and a close that did not complete in time) ends the connection itself, through {@code aborter}
 * (the Reactor Netty channel's close) when the server is Reactor Netty.
 */
final class ReactiveClientChannel implements ClientChannel {

    private final WebSocketSession session;
    private final @Nullable Runnable aborter;

    ReactiveClientChannel(WebSocketSession session, @Nullable Runnable aborter) {
        this.session = session;
        this.aborter = aborter;
    }

    @Override
    public String id() {
        return session.getId();
    }

    @Override
    public @Nullable Object remoteAddress() {
        return session.getHandshakeInfo().getRemoteAddress();
    }

    @Override
    public void write(List<byte[]> frames, WriteCallback done) {
        // The writer takes the next frames as the connection takes the previous ones: each one it takes is progress.
        Flux<WebSocketMessage> messages = Flux.fromIterable(frames)
                .map(frame -> {
                    done.progressed();
                    return session.binaryMessage(factory -> factory.wrap(frame));
                });
        session.send(messages).subscribe(null, done::failed, done::written);
    }

    @Override
    public void close(int code, String reason, long maxWaitMillis) {
        if (maxWaitMillis <= 0) {
            abort(code, reason);
            return;
        }
        session.close(new CloseStatus(code, reason))
                .timeout(Duration.ofMillis(maxWaitMillis))
                .subscribe(null, e -> abort(code, reason));
    }

    @Override
    public void abort(int code, String reason) {
        Runnable a = aborter;
        if (a != null) {
            a.run();
        } else {
            session.close(new CloseStatus(code, reason)).subscribe(null, e -> { });
        }
    }
}
