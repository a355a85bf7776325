package io.github.tinywasm.wasi.autoconfigure.websocket;

import org.jspecify.annotations.Nullable;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;

/**
 * The {@code /ws?topic=NAME} endpoint on WebFlux: adapts each reactive session to the {@link TopicFanOut}, which
 * does the fan-out. Expects the topic in the session attributes (put there by
 * {@link ReactiveTopicHandshakeHandler}). Clients are not expected to send anything: their frames are ignored
 * and counted, and one above the inbound size limit closes that session (1009; Reactor Netty refuses it while
 * reading it).
 *
 * <p>Threads: the server's (Netty event loops); it keeps no state of its own.
 */
public class ReactiveTopicWebSocketHandler implements WebSocketHandler {

    /** Session attribute: the decoded topic. */
    static final String TOPIC_ATTRIBUTE = ReactiveTopicWebSocketHandler.class.getName() + ".topic";
    /** Session attribute: a {@link Runnable} that ends the connection at once, when the server offers one. */
    static final String ABORTER_ATTRIBUTE = ReactiveTopicWebSocketHandler.class.getName() + ".aborter";

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

    @Override
    public Mono<Void> handle(WebSocketSession session) {
        if (!(session.getAttributes().get(TOPIC_ATTRIBUTE) instanceof String topic)) {
            TopicFanOut.log.error("WebSocket session {} has no topic; closing it (is the handler mapped through"
                    + " ReactiveTopicHandshakeHandler?)", session.getId());
            return session.close(CloseStatus.SERVER_ERROR);
        }
        Runnable aborter = session.getAttributes().get(ABORTER_ATTRIBUTE) instanceof Runnable r ? r : null;
        TopicSession joined = fanOut.open(topic, new ReactiveClientChannel(session, aborter));
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

    /** The fan-out this endpoint feeds. */
    public TopicFanOut fanOut() {
        return fanOut;
    }
}
