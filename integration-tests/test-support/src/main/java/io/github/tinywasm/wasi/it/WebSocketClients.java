package io.github.tinywasm.wasi.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** Real WebSocket clients for the tests: the JDK's, which reads everything, and a raw socket, which can stall. */
public final class WebSocketClients {

    private WebSocketClients() {}

    /** One JDK HTTP client for every WebSocket client: its threads are shared. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A JDK WebSocket client that collects the binary messages it receives and its close status. */
    public static final class Reader implements WebSocket.Listener, AutoCloseable {
        private final List<byte[]> frames = new ArrayList<>();
        private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();
        public volatile int closeCode = -1;
        public volatile boolean failed;
        private @Nullable WebSocket socket;

        public static Reader connect(int port, String topic) throws Exception {
            Reader reader = new Reader();
            reader.socket = HTTP.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create("ws://localhost:" + port + "/ws?topic=" + topic), reader)
                    .get(10, TimeUnit.SECONDS);
            return reader;
        }

        @Override
        public synchronized @Nullable CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            partial.write(chunk, 0, chunk.length);
            if (last) {
                frames.add(partial.toByteArray());
                partial.reset();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public @Nullable CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode = statusCode;
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failed = true;
        }

        public synchronized int size() {
            return frames.size();
        }

        public synchronized List<byte[]> frames() {
            return new ArrayList<>(frames);
        }

        public synchronized List<String> texts() {
            return frames.stream().map(f -> new String(f, StandardCharsets.UTF_8)).toList();
        }

        public WebSocket socket() {
            return Objects.requireNonNull(socket, "socket"); // set by connect() before it returns the reader
        }

        /** Whether the connection ended, whichever side ended it. */
        public boolean ended() {
            return closeCode != -1 || failed || socket().isInputClosed();
        }

        @Override
        public void close() {
            socket().abort();
        }
    }

    /**
     * Sends a WebSocket upgrade request over a raw socket and returns it after reading the status line, which
     * goes into {@code status[0]}. With a small {@code receiveBuffer} and nobody reading, it is a stalled client.
     */
    public static Socket rawHandshake(int port, String pathAndQuery, @Nullable String origin, int receiveBuffer, String[] status)
            throws IOException {
        Socket socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress("localhost", port), 5000);
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

    /** A client that completed the handshake and then never reads. */
    public static Socket stalled(int port, String topic) throws IOException {
        String[] status = new String[1];
        Socket s = rawHandshake(port, "/ws?topic=" + topic, null, 4096, status);
        if (!status[0].startsWith("HTTP/1.1 101")) {
            s.close();
            throw new IllegalStateException("handshake refused: " + status[0]);
        }
        return s;
    }

    /** Reads until the server ends the connection; true then (for Awaitility). */
    public static boolean readsToEnd(Socket socket) {
        try {
            socket.setSoTimeout(30_000);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1 << 16];
            while (in.read(buffer) != -1) {
                // discard frames and the close frame
            }
            return true;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }
}
