package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.WasiServer;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.messaging.simp.SimpMessagingTemplate;

/**
 * WebSocket fan-out over loopback: one guest broadcasting 64-byte messages to N clients, frames delivered per
 * second, next to Spring's STOMP simple broker fanning the same messages out to N subscribers of one
 * destination in the same application and run. Both sides use the same minimal JSR-356 client that only
 * counts frames, and the same flow control: messages go out in windows, and the next window starts when
 * every client has received the previous one, so that neither side drops or queues without bound. Both sides are
 * connected at once and measured in alternating rounds after a warm-up round each; the medians are reported.
 */
public final class FanOutBenchmark {

    private static final int[] CLIENTS = {1, 100, 1000};
    private static final int PAYLOAD = 64;
    /** Measured rounds per side and client count, alternating, after one warm-up round of each. */
    private static final int ROUNDS = 3;

    private FanOutBenchmark() {}

    public static void run() throws Exception {
        Path modules = Files.createTempDirectory("fanout-modules");
        Files.write(modules.resolve("fanout.wasm"), GuestFiles.read("fanout"));
        ConfigurableApplicationContext app = new SpringApplicationBuilder(FanOutApplication.class)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "spring.main.banner-mode=off", "logging.level.root=warn",
                        "server.tomcat.threads.max=50")
                .run();
        try {
            int port = Objects.requireNonNull(((WebServerApplicationContext) app).getWebServer(), "web server").getPort();
            WasiServer server = app.getBean(WasiServer.class);
            SimpMessagingTemplate stomp = app.getBean(SimpMessagingTemplate.class);
            byte[] payload = new byte[PAYLOAD];
            java.util.Arrays.fill(payload, (byte) 'x');
            byte[] probe = "PROBE".getBytes(StandardCharsets.US_ASCII);
            WebSocketContainer container = ContainerProvider.getWebSocketContainer();

            System.out.println();
            System.out.println("== WebSocket fan-out: 64-byte messages, one broadcaster, N clients on loopback");
            System.out.printf("%8s %18s %18s %8s   %s%n", "clients", "wasi frames/s", "stomp frames/s", "ratio",
                    "ratio per round");
            for (int n : CLIENTS) {
                long frames = n == 1 ? 200_000 : 600_000;
                int messages = (int) (frames / n);
                // a window stays well inside one client's send buffer (512 KB), so neither side has to drop
                int window = Math.min(2_000, Math.max(1, 20_000 / n));

                Clients wasi = Clients.connect(container, n, "ws://localhost:" + port + "/ws?topic=fan", false);
                Clients st = Clients.connect(container, n, "ws://localhost:" + port + "/stomp", true);
                wasi.awaitProbe(() -> server.publish("fan-in", probe));
                st.awaitProbe(() -> stomp.convertAndSend("/topic/fan", probe));
                Runnable toWasi = () -> server.publish("fan-in", payload);
                Runnable toStomp = () -> stomp.convertAndSend("/topic/fan", payload);
                // Both sides warm up with a full round before either is measured (the first count, at 1 client, would
                // otherwise measure this project's path in a cold JVM and STOMP's after it), then alternate.
                measure(wasi, messages, window, toWasi);
                measure(st, messages, window, toStomp);
                double[] w = new double[ROUNDS];
                double[] s = new double[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    w[r] = measure(wasi, messages, window, toWasi);
                    s[r] = measure(st, messages, window, toStomp);
                }
                wasi.close();
                st.close();
                double wm = Benchmarks.median(w);
                double sm = Benchmarks.median(s);
                System.out.printf("%8d %18.0f %18.0f %8.2f   %s%n", n, wm, sm, wm / sm, Benchmarks.ratios(w, s));
            }
        } finally {
            app.close();
        }
    }

    private static double measure(Clients clients, int messages, int window, Runnable publish) {
        long base = clients.received.sum();
        long t0 = System.nanoTime();
        send(clients, messages, window, publish);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return (clients.received.sum() - base) / seconds;
    }

    private static void send(Clients clients, int messages, int window, Runnable publish) {
        int n = clients.sessions.size();
        long start = clients.received.sum();
        for (int sent = 0; sent < messages; ) {
            int batch = Math.min(window, messages - sent);
            for (int i = 0; i < batch; i++) {
                publish.run();
            }
            sent += batch;
            long target = start + (long) sent * n;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (clients.received.sum() < target) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("frames lost: expected " + target + ", received " + clients.received.sum());
                }
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /**
     * N minimal clients that count the data frames they receive (STOMP: MESSAGE frames). A client is ready once
     * it has seen a probe frame (payload "PROBE"), which proves its subscription is in place on either side.
     */
    static final class Clients implements AutoCloseable {
        final LongAdder received = new LongAdder();
        final List<Session> sessions = new ArrayList<>();
        final LongAdder probed = new LongAdder();

        static Clients connect(WebSocketContainer container, int n, String url, boolean stomp) throws Exception {
            Clients c = new Clients();
            for (int i = 0; i < n; i++) {
                CountDownLatch connected = new CountDownLatch(1);
                java.util.concurrent.atomic.AtomicBoolean sawProbe = new java.util.concurrent.atomic.AtomicBoolean();
                Endpoint endpoint = new Endpoint() {
                    @Override
                    public void onOpen(Session session, EndpointConfig config) {
                        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) this::frame);
                        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) t ->
                                frame(ByteBuffer.wrap(t.getBytes(StandardCharsets.UTF_8))));
                        if (!stomp) {
                            connected.countDown();
                        }
                    }

                    private void frame(ByteBuffer b) {
                        int end = b.limit() - (stomp ? 2 : 1); // STOMP frames end with NUL
                        if (stomp && b.get(0) != 'M') { // not a MESSAGE: CONNECTED (or an error)
                            connected.countDown();
                            return;
                        }
                        if (b.get(end) == 'E') {
                            if (sawProbe.compareAndSet(false, true)) {
                                c.probed.increment();
                            }
                        } else {
                            c.received.increment();
                        }
                    }
                };
                Session s = container.connectToServer(endpoint, ClientEndpointConfig.Builder.create().build(), URI.create(url));
                if (stomp) {
                    s.getBasicRemote().sendText("CONNECT\naccept-version:1.2\nhost:localhost\n\n\0");
                }
                if (!connected.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("client " + i + " of " + url + " did not connect");
                }
                if (stomp) {
                    s.getBasicRemote().sendText("SUBSCRIBE\nid:0\ndestination:/topic/fan\n\n\0");
                }
                c.sessions.add(s);
            }
            return c;
        }

        /** Sends probes until every client has received one. */
        void awaitProbe(Runnable probe) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (probed.sum() < sessions.size()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + probed.sum() + " of " + sessions.size() + " clients subscribed");
                }
                probe.run();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }

        @Override
        public void close() throws Exception {
            for (Session s : sessions) {
                s.close();
            }
        }
    }
}
