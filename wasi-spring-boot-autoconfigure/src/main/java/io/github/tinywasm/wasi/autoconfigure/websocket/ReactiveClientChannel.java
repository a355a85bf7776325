package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A WebFlux WebSocket session as a {@link ClientChannel}. A batch is one {@link WebSocketSession#send}: the
 * server writes its frames and flushes, and signals completion once, so the hand-off is per batch.
 *
 * <p>A close frame cannot overtake frames the client does not read, and the reactive close waits for it; so
 * aborting (and a close that did not complete in time) ends the connection itself, through {@code aborter}
 * (the Reactor Netty channel's close) when the server is Reactor Netty. A close is bounded by such an abort,
 * never cancelled: the close frame was handed to the event loop before the abort, so a client that can take it
 * gets it (1001), however late a loaded machine runs the event loop.
 */
final class ReactiveClientChannel implements ClientChannel {

    /** Runs the aborts that bound closes: Reactor's shared timer, the same that {@code Mono.timeout} uses. */
    private static final Scheduler ABORTS = Schedulers.parallel();

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
    public void write(List<WireFrame> frames, WriteCallback done) {
        // The writer takes the next frames as the connection takes the previous ones: each one it takes is progress.
        Flux<WebSocketMessage> messages = Flux.fromIterable(frames)
                .map(frame -> {
                    done.progressed();
                    return frame.text() ? session.textMessage(frame.asText())
                            : session.binaryMessage(factory -> factory.wrap(frame.bytes()));
                });
        session.send(messages).subscribe(null, done::failed, done::written);
    }

    @Override
    public void close(int code, String reason, long maxWaitMillis) {
        if (maxWaitMillis <= 0) {
            abort(code, reason);
            return;
        }
        // Not Mono.timeout: cancelling the close releases its frame (Reactor Netty's sendClose does), and a frame
        // still waiting for a held-up event loop (a GC pause, a starved core at shutdown) is then never written, so
        // a healthy client sees its connection end without 1001. The close goes on; the abort only bounds it: it
        // reaches the event loop after the frame's write, so it ends the connection without discarding a frame
        // the client can take, and discards it only when the client's socket cannot take it.
        AtomicBoolean closed = new AtomicBoolean();
        Disposable deadline = ABORTS.schedule(() -> {
            if (!closed.get()) {
                abort(code, reason);
            }
        }, maxWaitMillis, TimeUnit.MILLISECONDS);
        session.close(new CloseStatus(code, reason)).subscribe(null, e -> {
            closed.set(true);
            deadline.dispose();
            abort(code, reason);
        }, () -> {
            closed.set(true);
            deadline.dispose();
        });
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
