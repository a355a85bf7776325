package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.socket.WebSocketSession;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * The WebFlux channel on a real Reactor Netty server whose event loop the test can hold up, as a loaded machine
 * (a GC pause, a starved core) does at shutdown: a close frame to a healthy client must reach it however late the
 * event loop gets to it, and the abort that bounds a close must not lose it.
 */
class ReactiveClientChannelTests {

    private final LoopResources loops = LoopResources.create("test-ws", 1, 1, true);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger aborts = new AtomicInteger();
    private final TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10));
    private @Nullable DisposableServer server;

    @AfterEach
    void tearDown() {
        release.countDown();
        fanOut.destroy();
        if (server != null) {
            server.disposeNow(Duration.ofSeconds(5));
        }
        loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    }

    private int start() {
        ReactiveTopicWebSocketHandler handler = new ReactiveTopicWebSocketHandler(fanOut, 8192) {
            @Override
            public Mono<Void> handle(WebSocketSession session, String topic, @Nullable String since,
                    @Nullable Runnable aborter) {
                Runnable counted = aborter == null ? null : () -> {
                    aborts.incrementAndGet();
                    aborter.run();
                };
                return super.handle(session, topic, since, counted);
            }
        };
        ReactiveTopicHandshakeHandler handshake = new ReactiveTopicHandshakeHandler(handler, TopicAccessPolicy.ALLOW_ALL,
                List.of(), 8192);
        ReactorHttpHandlerAdapter adapter = new ReactorHttpHandlerAdapter(WebHttpHandlerBuilder.webHandler(handshake).build());
        server = HttpServer.create().host("127.0.0.1").port(0).runOn(loops, false).handle(adapter).bindNow();
        fanOut.start();
        return server.port();
    }

    /** Holds up every server event loop (NIO: the server runs on those) until {@link #release} opens. */
    private void holdUpEventLoops() {
        EventLoopGroup group = loops.onServer(false);
        for (EventExecutor loop : group) {
            loop.execute(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    @Test
    void aCloseFrameHeldUpPastItsTimeLimitStillReachesAHealthyClient() throws Exception {
        int port = start();
        CloseListener client = new CloseListener();
        HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + port + "/ws?topic=t"), client)
                .get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.sessionCount() == 1);

        holdUpEventLoops();
        Thread stopping = new Thread(fanOut::stop, "test-stop");
        stopping.start();
        // the close waited its time limit and the connection's end was requested: before the fix, the close frame
        // was released at this point and never written
        await().atMost(Duration.ofSeconds(10)).until(() -> aborts.get() >= 1);
        release.countDown();
        stopping.join(10_000);

        await().atMost(Duration.ofSeconds(10)).until(() -> client.code != -1 || client.failed);
        assertThat(client.code).isEqualTo(TopicFanOut.GOING_AWAY);
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.sessionCount() == 0);
    }

    /** Records the close code the server sent, if any. */
    static final class CloseListener implements WebSocket.Listener {
        volatile int code = -1;
        volatile boolean failed;

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            code = statusCode;
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failed = true;
        }
    }
}
