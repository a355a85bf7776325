package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;

/**
 * The {@code /ws?topic=NAME} endpoint on WebFlux: adapts each reactive session to the {@link TopicFanOut}, which
 * does the fan-out. {@link ReactiveTopicHandshakeHandler} upgrades the request and hands the session over with its
 * topic (and {@code since}); a client that offers the subprotocol {@value WireFormat#OFFSETS_PROTOCOL} gets the
 * offsets format. Clients are not expected to send anything: their frames are ignored and counted, and one above the
 * inbound size limit closes that session (1009; Reactor Netty refuses it while reading it).
 *
 * <p>Threads: the server's (Netty event loops); it keeps no state of its own.
 */
public class ReactiveTopicWebSocketHandler {

    private static final List<String> SUB_PROTOCOLS = List.of(WireFormat.OFFSETS_PROTOCOL);

    private final TopicFanOut fanOut;
    private final int maxInboundMessageSize;

    /**
     * @param fanOut the fan-out the sessions join
     * @param maxInboundMessageSize largest frame a client may send, in bytes
     */
    public ReactiveTopicWebSocketHandler(TopicFanOut fanOut, int maxInboundMessageSize) {
        this.fanOut = fanOut;
        this.maxInboundMessageSize = maxInboundMessageSize;
    }

    /**
     * Serves one upgraded session until it ends.
     *
     * @param session the session
     * @param topic its decoded topic
     * @param aborter ends the connection at once (the server's channel close), or {@code null} if the server
     *     offers no such thing
     * @return completes when the session ends
     */
    public Mono<Void> handle(WebSocketSession session, String topic, @Nullable Runnable aborter) {
        return handle(session, topic, null, aborter);
    }

    /**
     * Serves one upgraded session until it ends.
     *
     * @param session the session
     * @param topic its decoded topic
     * @param since the offset the client resumes after, or {@code null}
     * @param aborter ends the connection at once (the server's channel close), or {@code null} if the server
     *     offers no such thing
     * @return completes when the session ends
     */
    public Mono<Void> handle(WebSocketSession session, String topic, @Nullable String since, @Nullable Runnable aborter) {
        boolean offsets = WireFormat.OFFSETS_PROTOCOL.equals(session.getHandshakeInfo().getSubProtocol());
        TopicSession joined = fanOut.open(topic, new ReactiveClientChannel(session, aborter), since, offsets);
        if (joined == null) {
            return session.close(CloseStatus.GOING_AWAY);
        }
        return session.receive()
                .doOnNext(message -> inbound(session, message))
                .then()
                .doFinally(signal -> fanOut.closed(joined, signal));
    }

    private void inbound(WebSocketSession session, WebSocketMessage message) {
        if (message.getType() == WebSocketMessage.Type.PING || message.getType() == WebSocketMessage.Type.PONG) {
            return;
        }
        if (message.getPayload().readableByteCount() > maxInboundMessageSize) {
            // servers other than Reactor Netty hand over what they read whatever its size
            session.close(CloseStatus.TOO_BIG_TO_PROCESS).subscribe(null, e -> { });
            return;
        }
        fanOut.inboundIgnored();
    }

    /**
     * The handler of one handshake: it offers the offsets format ({@link WireFormat#OFFSETS_PROTOCOL}) and serves
     * the session with its topic.
     */
    WebSocketHandler forClient(String topic, @Nullable String since, @Nullable Runnable aborter) {
        return new WebSocketHandler() {
            @Override
            public List<String> getSubProtocols() {
                return SUB_PROTOCOLS;
            }

            @Override
            public Mono<Void> handle(WebSocketSession session) {
                return ReactiveTopicWebSocketHandler.this.handle(session, topic, since, aborter);
            }
        };
    }

    /** The fan-out this endpoint feeds. */
    public TopicFanOut fanOut() {
        return fanOut;
    }
}
