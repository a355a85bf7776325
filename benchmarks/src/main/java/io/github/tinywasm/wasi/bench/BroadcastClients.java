package io.github.tinywasm.wasi.bench;

import org.jspecify.annotations.Nullable;
import java.util.Objects;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * N WebSocket clients held open by one JDK {@link HttpClient} (one selector thread for all of them, listeners run
 * on a small shared pool), each only reading the sequence number of the broadcasts it receives: {@code "#SEQ;"}
 * at the start of a frame ({@code /ws}) or of a STOMP MESSAGE frame's body ({@code /stomp}, after CONNECT and
 * SUBSCRIBE to {@code /topic/fan}). A client is ready once it has received a probe ({@code "#P;"}).
 *
 * <p>Threads: listeners run on the pool, one at a time per client (the JDK calls a listener serially), and
 * touch only their own client's buffer and the shared atomics; the other methods are called by the benchmark
 * thread.
 * A broadcast under measurement is a {@link Round}: the client that brings its count of missing receipts to zero
 * stamps the time and completes it.
 */
final class BroadcastClients implements AutoCloseable {

    private static final int IN_FLIGHT = 200;

    private final ExecutorService pool;
    private final HttpClient http;
    private final boolean stomp;
    private final List<Client> clients = new ArrayList<>();
    private final AtomicInteger probed = new AtomicInteger();
    private final AtomicInteger closed = new AtomicInteger();
    private final AtomicInteger stompConnected = new AtomicInteger();
    /** Errors of open clients (a failed send, a broken connection), for the failure message. */
    private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private volatile @Nullable Round round;

    /** One broadcast under measurement. */
    static final class Round {
        final long seq;
        final AtomicInteger missing;
        final CompletableFuture<Long> lastReceipt = new CompletableFuture<>();

        Round(long seq, int clients) {
            this.seq = seq;
            this.missing = new AtomicInteger(clients);
        }
    }

    BroadcastClients(boolean stomp) {
        this.stomp = stomp;
        this.pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
            Thread t = new Thread(r, "connections-client");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().executor(pool).connectTimeout(Duration.ofSeconds(30)).build();
    }

    int size() {
        return clients.size();
    }

    /** Opens {@code n} more clients, at most {@value #IN_FLIGHT} handshakes at a time; fails naming the cause. */
    void connect(URI uri, int n) throws InterruptedException {
        Semaphore window = new Semaphore(IN_FLIGHT);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<?>> all = new ArrayList<>(n);
        for (int i = 0; i < n && failures.isEmpty(); i++) {
            if (!window.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no WebSocket handshake to " + uri + " completed within 60 s ("
                        + clients.size() + " open); check server.tomcat.max-connections and accept-count");
            }
            Client c = new Client();
            CompletableFuture<WebSocket> f = http.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(30))
                    .buildAsync(uri, c)
                    .orTimeout(60, TimeUnit.SECONDS)
                    .whenComplete((ws, e) -> {
                        window.release();
                        if (e != null) {
                            failures.add(e);
                        }
                    });
            all.add(f);
            synchronized (clients) {
                clients.add(c);
            }
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            Throwable cause = failures.peek();
            while (cause.getCause() != null && cause != cause.getCause()) {
                cause = cause.getCause();
            }
            throw new IllegalStateException(failures.size() + " of " + n + " clients of " + uri
                    + " failed to connect (first: " + cause + "); with many clients check"
                    + " server.tomcat.max-connections, accept-count and ulimit -n of both JVMs", cause);
        }
    }

    /**
     * Broadcasts probes until every client has received one (so it is subscribed). The next probe goes only when
     * the previous one has stopped reaching clients for a second: probes sent faster than the server fans them
     * out would queue behind each other (N frames each) and delay the measured broadcasts.
     */
    void awaitProbe(Runnable probe, int timeoutSeconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        probe.run();
        int seen = probed.get();
        long progressAt = System.nanoTime();
        while (seen < clients.size()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + seen + " of " + clients.size()
                        + " clients received a probe within " + timeoutSeconds + " s; "
                        + (stomp ? stompConnected.get() + " received CONNECTED; " : "") + closed.get()
                        + " connections ended" + (errors.isEmpty() ? "" : ", " + errors.size()
                        + " client errors, first: " + errors.peek()));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            int now = probed.get();
            if (now != seen) {
                seen = now;
                progressAt = System.nanoTime();
            } else if (System.nanoTime() - progressAt > TimeUnit.SECONDS.toNanos(1)) {
                probe.run();
                progressAt = System.nanoTime();
            }
        }
    }

    /** Starts measuring broadcast {@code seq}: call before triggering it. */
    Round expect(long seq) {
        Round r = new Round(seq, clients.size());
        round = r;
        return r;
    }

    /** Closes every client (close handshake, then abort after 30 s) and waits until each has seen its end. */
    @Override
    public void close() throws InterruptedException {
        int open = 0;
        for (Client c : clients) {
            WebSocket ws = c.ws;
            if (ws != null) {
                open++;
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "");
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (closed.get() < open && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        for (Client c : clients) {
            if (c.ws != null) {
                c.ws.abort();
            }
        }
        pool.shutdownNow();
    }

    private final class Client implements WebSocket.Listener {
        private final StringBuilder frame = new StringBuilder(128);
        volatile @Nullable WebSocket ws;
        /** The STOMP CONNECT frame's send: SUBSCRIBE waits for it (the JDK allows one outstanding send). */
        private @Nullable CompletableFuture<WebSocket> connectSent;
        private boolean probedOnce;
        private boolean ended;

        @Override
        public void onOpen(WebSocket webSocket) {
            ws = webSocket;
            if (stomp) {
                connectSent = webSocket.sendText("CONNECT\naccept-version:1.2\nhost:localhost\n\n\0", true);
            }
            webSocket.request(1);
        }

        @Override
        public @Nullable CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            frame.append(data);
            if (last) {
                received(webSocket);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public @Nullable CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            frame.append(StandardCharsets.ISO_8859_1.decode(data));
            if (last) {
                received(webSocket);
            }
            webSocket.request(1);
            return null;
        }

        private void received(WebSocket webSocket) {
            long at = System.nanoTime();
            int body = 0;
            if (stomp) {
                if (frame.indexOf("CONNECTED") == 0) {
                    stompConnected.incrementAndGet();
                    // CONNECTED can arrive before the CONNECT send has completed on this side
                    Objects.requireNonNull(connectSent, "CONNECT sent on open").thenCompose(w -> w.sendText("SUBSCRIBE\nid:0\ndestination:/topic/fan\n\n\0", true))
                            .whenComplete((w, e) -> {
                                if (e != null) {
                                    errors.add(e);
                                }
                            });
                    frame.setLength(0);
                    return;
                }
                body = frame.indexOf("\n\n") + 2;
                if (frame.indexOf("MESSAGE") != 0 || body < 2) {
                    frame.setLength(0);
                    return;
                }
            }
            if (frame.length() > body + 1 && frame.charAt(body) == '#') {
                if (frame.charAt(body + 1) == 'P') {
                    if (!probedOnce) {
                        probedOnce = true;
                        probed.incrementAndGet();
                    }
                } else {
                    long seq = 0;
                    for (int i = body + 1; i < frame.length() && frame.charAt(i) != ';'; i++) {
                        seq = seq * 10 + (frame.charAt(i) - '0');
                    }
                    Round r = round;
                    if (r != null && r.seq == seq && r.missing.decrementAndGet() == 0) {
                        r.lastReceipt.complete(at);
                    }
                }
            }
            frame.setLength(0);
        }

        @Override
        public @Nullable CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            end();
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            errors.add(error);
            end();
        }

        private synchronized void end() {
            if (!ended) {
                ended = true;
                closed.incrementAndGet();
            }
        }
    }
}
