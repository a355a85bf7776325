package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import org.jspecify.annotations.Nullable;
import java.util.Objects;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * WebSocket broadcasts across nodes: a guest on node A broadcasts 64-byte messages (the publish time, from this
 * JVM's clock, in the first 8 bytes) to clients that count frames and record each frame's latency, publish to
 * receipt. (a) one node, embedded (no Redis), clients on it; (b) two nodes on one Redis (a redis-server started here
 * on a free loopback port, no persistence), the guest on A, the clients on B: the broadcast goes to A's outbox, the
 * topic's Redis stream, B's reader, B's fan-out. Both in the same run, with the same clients and flow control.
 *
 * <p>Throughput: messages in windows, the next window when every client got the previous one (nothing dropped or
 * queued without bound). Latency: a steady rate well below both throughputs, so that it is the path's latency, not
 * a queue's.
 */
public final class ClusterBenchmark {

    private static final int CLIENTS = 10;
    private static final int PAYLOAD = 64;
    private static final int THROUGHPUT_MESSAGES = 50_000;
    /**
     * Messages per window: well inside a topic stream's length (at least 1000 entries), so that node B never falls
     * further behind than the stream keeps (a burst longer than that outruns a reader: frames lost, and counted).
     */
    private static final int WINDOW = 500;
    /** Messages per second in the latency run (times {@link #CLIENTS} frames per second). */
    private static final int LATENCY_RATE = 2_300;
    private static final int LATENCY_SECONDS = 5;

    private ClusterBenchmark() {}

    public static void run() throws Exception {
        Path redisBinary = Path.of("/usr/bin/redis-server");
        if (!Files.isExecutable(redisBinary)) {
            System.out.println("cluster benchmark skipped: redis-server not installed (scripts/setup.sh)");
            return;
        }
        int redisPort = freePort();
        Process redis = new ProcessBuilder(redisBinary.toString(), "--port", Integer.toString(redisPort), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Runtime.getRuntime().addShutdownHook(new Thread(redis::destroyForcibly));
        List<ConfigurableApplicationContext> apps = new ArrayList<>();
        try {
            awaitRedis(redisPort);
            Path modules = Files.createTempDirectory("cluster-modules");
            Files.write(modules.resolve("fanout.wasm"), GuestFiles.read("fanout"));
            Path empty = Files.createTempDirectory("cluster-empty");
            WebSocketContainer container = ContainerProvider.getWebSocketContainer();

            System.out.println();
            System.out.printf("== Broadcasts across nodes: 64-byte messages from a guest on node A, %d clients%n", CLIENTS);
            System.out.printf("%-38s %14s %10s %10s %10s%n", "", "frames/s", "p50 ms", "p99 ms", "max ms");

            ConfigurableApplicationContext single = node(modules, null, null, redisPort);
            apps.add(single);
            Result a = measure(container, single, single);
            print("(a) one node, embedded, clients local", a);
            single.close();
            apps.remove(single);

            ConfigurableApplicationContext nodeA = node(modules, "a", "bench:", redisPort);
            apps.add(nodeA);
            ConfigurableApplicationContext nodeB = node(empty, "b", "bench:", redisPort);
            apps.add(nodeB);
            Result b = measure(container, nodeA, nodeB);
            print("(b) two nodes on Redis, clients on B", b);

            System.out.printf("b/a: frames/s %.2f; latency added by Redis: p50 %+.2f ms, p99 %+.2f ms%n",
                    b.framesPerSecond / a.framesPerSecond, b.p50 - a.p50, b.p99 - a.p99);
            System.out.println("(latency at " + LATENCY_RATE + " messages/s, " + LATENCY_RATE * CLIENTS
                    + " frames/s delivered, for " + LATENCY_SECONDS + " s)");
        } finally {
            for (ConfigurableApplicationContext app : apps) {
                app.close();
            }
            redis.destroy();
            redis.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void print(String label, Result r) {
        System.out.printf("%-38s %14.0f %10.2f %10.2f %10.2f%n", label, r.framesPerSecond, r.p50, r.p99, r.max);
    }

    private static ConfigurableApplicationContext node(Path modules, @Nullable String id, @Nullable String prefix, int redisPort) {
        List<String> properties = new ArrayList<>(List.of("server.port=0", "tinywasm.wasi.modules-dir=" + modules,
                "tinywasm.wasi.watch=false", "spring.main.banner-mode=off", "logging.level.root=warn",
                "server.tomcat.threads.max=50", "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + redisPort));
        if (id != null) {
            properties.addAll(List.of("tinywasm.wasi.cluster.redis.enabled=true", "tinywasm.wasi.cluster.node-id=" + id,
                    "tinywasm.wasi.cluster.redis.key-prefix=" + prefix));
        }
        return new SpringApplicationBuilder(FanOutApplication.class).properties(properties.toArray(String[]::new)).run();
    }

    /** Publishes to the guest on {@code from}; the clients are on {@code to}. */
    private static Result measure(WebSocketContainer container, ConfigurableApplicationContext from,
            ConfigurableApplicationContext to) throws Exception {
        WasiServer server = from.getBean(WasiServer.class);
        int port = Objects.requireNonNull(((WebServerApplicationContext) to).getWebServer(), "started").getPort();
        TopicFanOut fanOut = to.getBean(TopicFanOut.class);
        Clients clients = Clients.connect(container, CLIENTS, "ws://localhost:" + port + "/ws?topic=fan");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!fanOut.live("fan") || clients.probed.sum() < CLIENTS) { // every client gets frames now
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("clients not receiving: " + clients.probed.sum() + " of " + CLIENTS);
                }
                server.publish("fan-in", message(0));
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            // throughput: a warm-up tenth, then the run
            send(clients, server, THROUGHPUT_MESSAGES / 10);
            long base = clients.received.sum();
            long t0 = System.nanoTime();
            send(clients, server, THROUGHPUT_MESSAGES);
            double framesPerSecond = (clients.received.sum() - base) / ((System.nanoTime() - t0) / 1e9);
            // latency: a steady rate
            clients.recordLatency();
            long interval = TimeUnit.SECONDS.toNanos(1) / LATENCY_RATE;
            int count = LATENCY_RATE * LATENCY_SECONDS;
            long start = System.nanoTime();
            long before = clients.received.sum();
            for (int i = 0; i < count; i++) {
                long due = start + i * interval;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                server.publish("fan-in", message(System.nanoTime()));
            }
            await(clients, before + (long) count * CLIENTS);
            long[] latencies = clients.latencies();
            Arrays.sort(latencies);
            return new Result(framesPerSecond, percentile(latencies, 0.50), percentile(latencies, 0.99),
                    latencies[latencies.length - 1] / 1e6);
        } finally {
            clients.close();
        }
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    private static void send(Clients clients, WasiServer server, int messages) {
        long start = clients.received.sum();
        for (int sent = 0; sent < messages; ) {
            int batch = Math.min(WINDOW, messages - sent);
            for (int i = 0; i < batch; i++) {
                server.publish("fan-in", message(System.nanoTime()));
            }
            sent += batch;
            await(clients, start + (long) sent * CLIENTS);
        }
    }

    private static void await(Clients clients, long target) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (clients.received.sum() < target) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("frames lost: expected " + target + ", received " + clients.received.sum());
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /** 64 bytes: the publish time (0 for a probe) in the first 8, then filler. */
    private static byte[] message(long nanos) {
        ByteBuffer b = ByteBuffer.allocate(PAYLOAD);
        b.putLong(nanos);
        while (b.hasRemaining()) {
            b.put((byte) 'x');
        }
        return b.array();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitRedis(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                s.setSoTimeout(1000);
                s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                byte[] reply = s.getInputStream().readNBytes(7);
                if (new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n")) {
                    return;
                }
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("redis-server did not start on port " + port, e);
                }
            }
            Thread.sleep(20);
        }
    }

    private record Result(double framesPerSecond, double p50, double p99, double max) {}

    /** Clients that count frames and, once asked, record each frame's latency (receipt minus publish time). */
    static final class Clients implements AutoCloseable {
        final LongAdder received = new LongAdder();
        final LongAdder probed = new LongAdder();
        final List<Session> sessions = new ArrayList<>();
        final List<long[]> samples = new ArrayList<>();
        final int[] sampled;
        volatile boolean recording;

        private Clients(int n) {
            sampled = new int[n];
        }

        static Clients connect(WebSocketContainer container, int n, String url) throws Exception {
            Clients c = new Clients(n);
            for (int i = 0; i < n; i++) {
                int index = i;
                long[] mine = new long[LATENCY_RATE * LATENCY_SECONDS];
                c.samples.add(mine);
                boolean[] sawProbe = {false};
                CountDownLatch open = new CountDownLatch(1);
                Endpoint endpoint = new Endpoint() {
                    @Override
                    public void onOpen(Session session, EndpointConfig config) {
                        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) b -> {
                            long now = System.nanoTime();
                            long sent = b.getLong(0);
                            if (sent == 0) {
                                if (!sawProbe[0]) {
                                    sawProbe[0] = true;
                                    c.probed.increment();
                                }
                                return;
                            }
                            if (c.recording && c.sampled[index] < mine.length) {
                                mine[c.sampled[index]++] = now - sent;
                            }
                            c.received.increment();
                        });
                        open.countDown();
                    }
                };
                c.sessions.add(container.connectToServer(endpoint, ClientEndpointConfig.Builder.create().build(), URI.create(url)));
                if (!open.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("client " + i + " of " + url + " did not connect");
                }
            }
            return c;
        }

        void recordLatency() {
            recording = true;
        }

        long[] latencies() {
            int total = 0;
            for (int n : sampled) {
                total += n;
            }
            long[] all = new long[total];
            int at = 0;
            for (int i = 0; i < samples.size(); i++) {
                System.arraycopy(samples.get(i), 0, all, at, sampled[i]);
                at += sampled[i];
            }
            return all;
        }

        @Override
        public void close() throws Exception {
            for (Session s : sessions) {
                s.close();
            }
        }
    }
}
