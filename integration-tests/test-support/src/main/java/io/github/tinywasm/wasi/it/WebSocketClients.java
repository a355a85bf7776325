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
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/** Real WebSocket clients for the tests: the JDK's, which reads everything, and a raw socket, which can stall. */
public final class WebSocketClients {

    private WebSocketClients() {}

    /** One JDK HTTP client for every WebSocket client: its threads are shared. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** The subprotocol of the offsets format. */
    public static final String OFFSETS = "tinywasm.offsets.v1";

    /**
     * A JDK WebSocket client that collects the binary messages it receives, the text ones (notices of the offsets
     * format) and its close status.
     */
    public static final class Reader implements WebSocket.Listener, AutoCloseable {
        private final List<byte[]> frames = new ArrayList<>();
        private final List<String> notices = new ArrayList<>();
        private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();
        private final StringBuilder partialText = new StringBuilder();
        public volatile int closeCode = -1;
        public volatile boolean failed;
        private @Nullable WebSocket socket;

        public static Reader connect(int port, String topic) throws Exception {
            return connectTo(port, "/ws?topic=" + topic);
        }

        /** Connects to {@code pathAndQuery}, offering {@code subprotocols}. */
        public static Reader connectTo(int port, String pathAndQuery, String... subprotocols) throws Exception {
            Reader reader = new Reader();
            WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
            if (subprotocols.length > 0) {
                builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
            }
            reader.socket = builder.buildAsync(URI.create("ws://localhost:" + port + pathAndQuery), reader)
                    .get(10, TimeUnit.SECONDS);
            return reader;
        }

        @Override
        public synchronized @Nullable CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partialText.append(data);
            if (last) {
                notices.add(partialText.toString());
                partialText.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        /** The text messages received: notices of the offsets format. */
        public synchronized List<String> notices() {
            return new ArrayList<>(notices);
        }

        /** The binary messages of the offsets format, each split into its offset and its payload (as text). */
        public synchronized List<OffsetFrame> offsetFrames() {
            return frames.stream().map(OffsetFrame::of).toList();
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
     * A binary message of the offsets format: {@code [n][offset: n bytes][payload]}.
     *
     * @param offset the offset token
     * @param payload the payload, as UTF-8 text
     */
    public record OffsetFrame(String offset, String payload) {

        static OffsetFrame of(byte[] frame) {
            int n = frame[0] & 0xff;
            return new OffsetFrame(new String(frame, 1, n, StandardCharsets.US_ASCII),
                    new String(frame, 1 + n, frame.length - 1 - n, StandardCharsets.UTF_8));
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

    /**
     * Reads until the server ends the connection: true then, false if it has not ended it (no byte and no end
     * for {@code quiet}).
     */
    public static boolean readsToEnd(Socket socket, Duration quiet) {
        try {
            socket.setSoTimeout((int) quiet.toMillis());
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1 << 16];
            while (in.read(buffer) != -1) {
                // discard frames and the close frame
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }

    /**
     * A client on a slow link: reads {@code chunk} bytes every {@code periodMillis} (the sleep is the client's
     * behaviour, not a synchronisation).
     */
    public static final class Throttled implements AutoCloseable {
        final Socket socket;
        final Thread reader;
        /** Bytes read so far. */
        public final AtomicLong bytes = new AtomicLong();
        volatile boolean stop;

        public Throttled(int port, String topic, int chunk, long periodMillis) throws IOException {
            String[] status = new String[1];
            socket = rawHandshake(port, "/ws?topic=" + topic, null, 4096, status);
            if (!status[0].startsWith("HTTP/1.1 101")) {
                throw new IllegalStateException("handshake refused: " + status[0]);
            }
            reader = new Thread(() -> {
                byte[] buffer = new byte[chunk];
                try {
                    socket.setSoTimeout(0);
                    InputStream in = socket.getInputStream();
                    while (!stop) {
                        int n = in.read(buffer);
                        if (n < 0) {
                            return;
                        }
                        bytes.addAndGet(n);
                        TimeUnit.MILLISECONDS.sleep(periodMillis);
                    }
                } catch (IOException | InterruptedException e) {
                    // closed
                }
            }, "throttled-client");
            reader.setDaemon(true);
            reader.start();
        }

        @Override
        public void close() throws IOException {
            stop = true;
            reader.interrupt();
            socket.close();
        }
    }
}
