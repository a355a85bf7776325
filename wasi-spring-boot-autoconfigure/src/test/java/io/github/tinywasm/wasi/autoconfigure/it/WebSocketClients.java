package io.github.tinywasm.wasi.autoconfigure.it;

import jakarta.websocket.ContainerProvider;
import jakarta.websocket.WebSocketContainer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.springframework.web.socket.BinaryMessage;
import org.springframework.web.socket.CloseStatus;
import org.springframework.web.socket.WebSocketSession;
import org.springframework.web.socket.client.standard.StandardWebSocketClient;
import org.springframework.web.socket.handler.BinaryWebSocketHandler;

/** Real WebSocket clients for the integration tests: Tomcat's JSR-356 client, and a raw socket. */
final class WebSocketClients {

    private WebSocketClients() {}

    /** Collects the binary frames a client receives. */
    static final class Frames extends BinaryWebSocketHandler {
        private final List<byte[]> frames = new ArrayList<>();
        volatile CloseStatus closeStatus;

        @Override
        protected synchronized void handleBinaryMessage(WebSocketSession session, BinaryMessage message) {
            ByteBuffer b = message.getPayload();
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            frames.add(copy);
        }

        @Override
        public void afterConnectionClosed(WebSocketSession session, CloseStatus status) {
            closeStatus = status;
        }

        synchronized int size() {
            return frames.size();
        }

        synchronized List<String> texts() {
            return frames.stream().map(f -> new String(f, StandardCharsets.UTF_8)).toList();
        }

        synchronized List<byte[]> frames() {
            return new ArrayList<>(frames);
        }
    }

    static WebSocketSession connect(int port, String topic, Frames frames) throws Exception {
        WebSocketContainer container = ContainerProvider.getWebSocketContainer();
        container.setDefaultMaxBinaryMessageBufferSize(1 << 20);
        return new StandardWebSocketClient(container)
                .execute(frames, "ws://localhost:" + port + "/ws?topic=" + topic)
                .get(10, TimeUnit.SECONDS);
    }

    /**
     * Sends a WebSocket upgrade request over a raw socket and returns the socket after reading the status
     * line, which goes into {@code status[0]}. The caller decides whether to read anything else.
     */
    static Socket rawHandshake(int port, String pathAndQuery, String origin, int receiveBuffer, String[] status)
            throws IOException {
        Socket socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress("localhost", port), 5000);
        socket.setSoTimeout(10_000);
        String request = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: localhost:" + port + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n" + (origin != null ? "Origin: " + origin + "\r\n" : "") + "\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            line.append((char) c);
        }
        status[0] = line.toString().trim();
        return socket;
    }
}
