package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.PongMessage;
import org.springframework.web.socket.SubProtocolCapable;
import org.springframework.web.socket.TextMessage;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.adapter.NativeWebSocketSession;
import org.springframework.web.socket.handler.AbstractWebSocketHandler;

/**
 * The {@code /ws?topic=NAME} endpoint on Spring MVC with a JSR-356 container (Tomcat, Jetty): adapts each
 * session to the {@link TopicFanOut}, which does the fan-out. Expects the topic in the session attributes (put
 * there by {@link TopicHandshakeInterceptor}, with {@code since} if the client resumes); a client that offers the
 * subprotocol {@value WireFormat#OFFSETS_PROTOCOL} gets the offsets format. Clients are not expected to send
 * anything: their frames are ignored and counted, and one above the inbound size limit closes that session (1009).
 *
 * <p>Threads: the container's, for each session's events. Frames go out on a fixed pool of sender threads
 * ({@code wasi-ws-send-N}, one per core) with the container's blocking sends while clients keep up, and with
 * its asynchronous sends for slow clients and whenever every sender waits on one (see {@link BlockingSendPool}):
 * a stalled client never holds more than the one sender it is pinning, and never more than the pool.
 */
public class TopicWebSocketHandler extends AbstractWebSocketHandler implements SubProtocolCapable, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(TopicWebSocketHandler.class);
    /** How much longer than the send time limit a blocking send may wait. */
    static final long BLOCKING_SEND_MARGIN_MILLIS = 1000;
    private static final String SESSION_ATTRIBUTE = TopicWebSocketHandler.class.getName() + ".session";

    private final TopicFanOut fanOut;
    private final int maxInboundMessageSize;
    private final BlockingSendPool senders = new BlockingSendPool(Math.max(2, Runtime.getRuntime().availableProcessors()));

    /**
     * @param fanOut the fan-out the sessions join
     * @param maxInboundMessageSize largest frame a client may send, in bytes
     */
    public TopicWebSocketHandler(TopicFanOut fanOut, int maxInboundMessageSize) {
        this.fanOut = fanOut;
        this.maxInboundMessageSize = maxInboundMessageSize;
    }

    /** The offsets format, for clients that ask for it ({@link WireFormat}); others get raw frames. */
    @Override
    public List<String> getSubProtocols() {
        return List.of(WireFormat.OFFSETS_PROTOCOL);
    }

    @Override
    public void afterConnectionEstablished(WebSocketSession session) throws IOException {
        String topic = (String) session.getAttributes().get(TopicHandshakeInterceptor.TOPIC_ATTRIBUTE);
        jakarta.websocket.Session nativeSession = session instanceof NativeWebSocketSession n
                ? n.getNativeSession(jakarta.websocket.Session.class) : null;
        if (topic == null || nativeSession == null) {
            log.error("WebSocket session {} has no topic or no JSR-356 session; closing it (is the handler mapped"
                    + " through TopicHandshakeInterceptor on a servlet container?)", session.getId());
            session.close(CloseStatus.SERVER_ERROR);
            return;
        }
        // Bounds every blocking send (the senders', the container's pong replies): a little past the send time
        // limit, so that a send stuck that long is the sweeper's to end (and count as stalled), not a failure.
        nativeSession.getUserProperties().put(JsrClientChannel.BLOCKING_SEND_TIMEOUT,
                fanOut.sendTimeLimit().toMillis() + BLOCKING_SEND_MARGIN_MILLIS);
        session.setBinaryMessageSizeLimit(maxInboundMessageSize);
        session.setTextMessageSizeLimit(maxInboundMessageSize);
        String since = (String) session.getAttributes().get(TopicHandshakeInterceptor.SINCE_ATTRIBUTE);
        boolean offsets = WireFormat.OFFSETS_PROTOCOL.equals(session.getAcceptedProtocol());
        TopicSession joined = fanOut.open(topic, new JsrClientChannel(session, nativeSession, senders), since, offsets);
        if (joined == null) {
            session.close(CloseStatus.GOING_AWAY);
            return;
        }
        session.getAttributes().put(SESSION_ATTRIBUTE, joined);
        // From open() on, a broadcast may write to this session and a failed write end it on a sender thread,
        // whose afterConnectionClosed may have run before the attribute above was there: the session ended
        // before it was fully registered, and nobody else will tell the fan-out (closed() is idempotent).
        if (!session.isOpen()) {
            fanOut.closed(joined, "closed while opening");
        }
    }

    @Override
    public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
        if (session.getAttributes().get(SESSION_ATTRIBUTE) instanceof TopicSession joined) {
            fanOut.closed(joined, status);
        }
    }

    @Override
    public void handleTransportError(WebSocketSession session, Throwable exception) {
        log.debug("WebSocket session {} transport error: {}", session.getId(), exception.toString());
    }

    @Override
    protected void handleTextMessage(WebSocketSession session, TextMessage message) {
        fanOut.inboundIgnored();
    }

    @Override
    protected void handleBinaryMessage(WebSocketSession session, BinaryMessage message) {
        fanOut.inboundIgnored();
    }

    @Override
    protected void handlePongMessage(WebSocketSession session, PongMessage message) {
    }

    /** Stops the sender threads. */
    @Override
    public void destroy() {
        senders.shutdown();
    }

    /** The fan-out this endpoint feeds. */
    public TopicFanOut fanOut() {
        return fanOut;
    }
}
