package io.github.tinywasm.wasi.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The behaviour of {@code /ws?topic=} that every web stack must show, run against a real application on a real
 * port with real guests and real clients (the JDK's WebSocket client, and raw sockets for handshakes and for
 * clients that stop reading). Subclasses name the application; it must refuse topics starting with "secret"
 * through its {@code TopicAccessPolicy}.
 */
public abstract class WebSocketEndpointSuite {

    /** More stalled clients than a sender pool that grows by one thread per stalled client ever had (cores + 64). */
    protected static final int MANY = 100;

    @TempDir
    protected Path modules;

    private final List<Socket> sockets = new ArrayList<>();
    private final List<WebSocketClients.Reader> readers = new ArrayList<>();
    private @Nullable ConfigurableApplicationContext context;

    /** The application under test. */
    protected abstract Class<?> application();

    @AfterEach
    void tearDown() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        for (WebSocketClients.Reader r : readers) {
            r.close();
        }
        if (context != null) {
            context.close();
        }
    }

    /** Starts the application with guest "feed" (bus "in" to WebSocket "t") and guests "a" and "b". */
    protected ConfigurableApplicationContext start(String... properties) throws IOException {
        // 300 pages: about 19 MiB, room for a 16 MiB frame
        Files.write(modules.resolve("feed.wasm"), TestGuests.broadcaster("in", "t", 300));
        Files.write(modules.resolve("a.wasm"), TestGuests.broadcaster("a-in", "a", 2));
        Files.write(modules.resolve("b.wasm"), TestGuests.broadcaster("b-in", "b", 2));
        context = new SpringApplicationBuilder(application())
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .properties(properties)
                .run();
        return context;
    }

    private ConfigurableApplicationContext context() {
        return Objects.requireNonNull(context, "start() the application first");
    }

    protected int port() {
        return context().getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    }

    protected TopicFanOut fanOut() {
        return context().getBean(TopicFanOut.class);
    }

    protected void publish(String topic, byte[] payload) {
        context().getBean(WasiPublisher.class).publish(topic, payload);
    }

    /** A client that reads everything; returns once the server has registered its session. */
    protected WebSocketClients.Reader reader(String topic) throws Exception {
        int before = fanOut().sessionCount();
        WebSocketClients.Reader reader = WebSocketClients.Reader.connect(port(), topic);
        readers.add(reader);
        // the client's future completes on the 101 response, before the server registers the session
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut().sessionCount() > before);
        return reader;
    }

    /** Clients that complete the handshake and never read. */
    protected void stall(int clients, String topic) throws Exception {
        int before = fanOut().sessionCount();
        for (int i = 0; i < clients; i++) {
            sockets.add(WebSocketClients.stalled(port(), topic));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> fanOut().sessionCount() == before + clients);
    }

    private static byte[] frame(int size, int seq) {
        byte[] payload = new byte[size];
        ByteBuffer.wrap(payload).putInt(seq);
        return payload;
    }

    private String status(String pathAndQuery, @Nullable String origin) throws IOException {
        String[] status = new String[1];
        try (Socket s = WebSocketClients.rawHandshake(port(), pathAndQuery, origin, 0, status)) {
            return status[0];
        }
    }

    // ---- topics and handshakes ---------------------------------------------------------------------------------

    @Test
    void clientsReceiveWhatGuestsBroadcastToTheirTopicInOrder() throws Exception {
        start();
        WebSocketClients.Reader a = reader("a");
        WebSocketClients.Reader b = reader("b");
        for (int i = 0; i < 50; i++) {
            publish("a-in", ("a" + i).getBytes(StandardCharsets.UTF_8));
        }
        publish("b-in", "only b".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(10)).until(() -> a.size() == 50 && b.size() == 1);
        assertThat(a.texts()).containsExactlyElementsOf(IntStream.range(0, 50).mapToObj(i -> "a" + i).toList());
        assertThat(b.texts()).containsExactly("only b");
        assertThat(fanOut().topics()).containsExactly("a", "b");
    }

    @Test
    void handshakesWithoutATopicFromAForeignOriginOrForADeniedTopicAreRefused() throws Exception {
        start("tinywasm.wasi.websocket.allowed-origins=http://allowed.example");
        assertThat(status("/ws", null)).startsWith("HTTP/1.1 400");
        assertThat(status("/ws?topic=", null)).startsWith("HTTP/1.1 400");
        assertThat(status("/ws?topic=%20", null)).startsWith("HTTP/1.1 400");
        assertThat(status("/ws?topic=a", "http://evil.example")).startsWith("HTTP/1.1 403");
        assertThat(status("/ws?topic=a", "http://allowed.example")).startsWith("HTTP/1.1 101");
        assertThat(status("/ws?topic=a", "http://localhost:" + port())).startsWith("HTTP/1.1 101");
        assertThat(status("/ws?topic=a", null)).startsWith("HTTP/1.1 101");
        // the application's TopicAccessPolicy refuses "secret*"; the topic is decoded first
        assertThat(status("/ws?topic=secret%2Dplans", null)).startsWith("HTTP/1.1 403");
        assertThat(status("/ws?topic=" + "x".repeat(1025), null)).startsWith("HTTP/1.1 400");
    }

    // ---- what clients send -------------------------------------------------------------------------------------

    @Test
    void framesClientsSendAreIgnoredAndCountedAndAnOversizedOneClosesThatSessionOnly() throws Exception {
        start();
        WebSocketClients.Reader healthy = reader("t");
        WebSocketClients.Reader chatty = reader("t");
        long ignored = fanOut().stats().inboundIgnored();
        chatty.socket().sendText("hello?", true).get(10, TimeUnit.SECONDS);
        chatty.socket().sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut().stats().inboundIgnored() == ignored + 2);

        int sessions = fanOut().sessionCount();
        try {
            // 16 MiB announced in the frame header: refused from the header, not read into memory
            chatty.socket().sendBinary(ByteBuffer.wrap(new byte[16 << 20]), true).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the server may close (1009, message too big) while the client is still writing
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> chatty.ended() && fanOut().sessionCount() == sessions - 1);
        assertThat(chatty.closeCode).isIn(-1, 1009, 1006);

        // bytes that are not WebSocket framing end that connection
        String[] status = new String[1];
        try (Socket raw = WebSocketClients.rawHandshake(port(), "/ws?topic=t", null, 0, status)) {
            assertThat(status[0]).startsWith("HTTP/1.1 101");
            raw.getOutputStream().write("this is not a websocket frame at all".repeat(10).getBytes(StandardCharsets.US_ASCII));
            raw.getOutputStream().flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> WebSocketClients.readsToEnd(raw));
        }

        publish("in", "still fine".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.texts().contains("still fine"));
        assertThat(healthy.ended()).isFalse();
    }

    // ---- clients that stop reading -----------------------------------------------------------------------------

    @Test
    void aHealthyClientKeepsUpWhateverNumberOfClientsStall() throws Exception {
        // a healthy client held up behind the stalled ones would miss every 10 s deadline below
        start("tinywasm.wasi.websocket.send-time-limit=60s");
        stall(MANY, "t");
        WebSocketClients.Reader healthy = reader("t");
        int frames = 200; // 64 KiB each: far more than the stalled clients' socket buffers hold
        for (int i = 0; i < frames; i++) {
            publish("in", frame(64 * 1024 - 8, i));
            int expected = i + 1;
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
                    .until(() -> healthy.size() == expected);
        }
        List<byte[]> got = healthy.frames();
        for (int i = 0; i < frames; i++) {
            assertThat(ByteBuffer.wrap(got.get(i)).getInt()).isEqualTo(i);
        }
        assertThat(fanOut().stats().framesDropped()).isPositive();
        assertThat(fanOut().stats().stalledClosed()).isZero();
    }

    @Test
    void aStalledSessionIsClosedOnceWithoutAThreadOfItsOwn() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=300ms");
        stall(1, "t");
        Socket stalled = sockets.get(0);
        WebSocketClients.Reader healthy = reader("t");
        // larger than any socket buffer: this write can only complete if the client reads
        publish("in", frame(8 << 20, 0));
        await().atMost(Duration.ofSeconds(20)).until(() -> fanOut().stats().stalledClosed() >= 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> WebSocketClients.readsToEnd(stalled));
        // many sweeps later it was still closed once, no thread was started to close it, and it is gone
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10))
                .until(() -> fanOut().stats().stalledClosed() == 1 && threads("wasi-ws-close") == 0);
        await().atMost(Duration.ofSeconds(20)).until(() -> fanOut().sessionCount() == 1);
        assertThat(healthy.size()).isEqualTo(1);
        assertThat(healthy.ended()).isFalse();
    }

    private static long threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    @Test
    void shutdownClosesHealthySessionsWith1001AndDoesNotWaitForStalledOnesOneByOne() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=60s");
        int clients = 2 * MANY;
        stall(clients, "t");
        WebSocketClients.Reader healthy = reader("t");
        WebSocketClients.Reader idle = reader("a");
        // one frame no socket buffer can hold, then two more, the last of which every stalled client drops: then
        // each of them has a write in flight that will never complete
        publish("in", frame(8 << 20, 0));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 1);
        publish("in", frame(600 * 1024, 1));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 2);
        publish("in", frame(16, 2));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 3 && fanOut().stats().framesDropped() >= clients);

        long started = System.nanoTime();
        context().close();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        // one close after another, each waiting for its write, would take clients x (one wait per close)
        assertThat(took).isLessThan(Duration.ofSeconds(8));
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.closeCode == 1001 && idle.closeCode == 1001);
        for (Socket s : sockets) {
            await().atMost(Duration.ofSeconds(10)).until(() -> WebSocketClients.readsToEnd(s));
        }
    }

    // ---- attacks -----------------------------------------------------------------------------------------------

    @Test
    void aSixteenMebibyteFrameReachesAHealthyClientIntactBesideAStalledOne() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=60s");
        stall(1, "t");
        WebSocketClients.Reader healthy = reader("t");
        byte[] big = new byte[16 << 20];
        ThreadLocalRandom.current().nextBytes(big);
        publish("in", big);
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 1);
        // (sent once the big one is out: until then the client's buffer is over its limit, and it would be dropped)
        publish("in", "after".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 2);
        assertThat(Arrays.equals(healthy.frames().get(0), big)).isTrue();
        assertThat(healthy.texts().get(1)).isEqualTo("after");
        assertThat(healthy.ended()).isFalse();
        assertThat(fanOut().sessionCount()).isEqualTo(2);
    }

    /**
     * Thousands of sessions connect and go away (cleanly, or by resetting the connection, some in the middle of
     * receiving) while a guest broadcasts: the steady client receives every frame in order, and nothing is left
     * behind.
     */
    @Test
    void thousandsOfSessionsChurningDuringBroadcastsLeaveNothingBehind() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=5s");
        WebSocketClients.Reader steady = reader("t");
        long openedBefore = fanOut().stats().opened();
        int churners = 2000;
        AtomicBoolean broadcasting = new AtomicBoolean(true);
        AtomicInteger published = new AtomicInteger();
        Thread broadcaster = new Thread(() -> {
            while (broadcasting.get()) {
                // in windows the steady client always has room for, so that it never has to drop one
                for (int i = 0; i < 100; i++) {
                    publish("in", frame(256, published.getAndIncrement()));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> steady.size() == published.get());
            }
        }, "test-broadcaster");
        broadcaster.start();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        Set<Throwable> errors = ConcurrentHashMap.newKeySet();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < churners; i++) {
                int n = i;
                done.add(pool.submit(() -> {
                    try {
                        churnOnce(n);
                    } catch (IOException e) {
                        errors.add(e);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            broadcasting.set(false);
            broadcaster.join();
            pool.shutdownNow();
        }
        assertThat(errors).isEmpty();
        int total = published.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> steady.size() == total);
        List<byte[]> got = steady.frames();
        for (int i = 0; i < total; i++) {
            assertThat(ByteBuffer.wrap(got.get(i)).getInt()).isEqualTo(i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> fanOut().sessionCount() == 1);
        assertThat(fanOut().stats().opened() - openedBefore).isEqualTo(churners);
        assertThat(fanOut().topics()).containsExactly("t");
        assertThat(steady.ended()).isFalse();
    }

    /** One short-lived client: handshake, maybe read a little, then leave politely or reset the connection. */
    private void churnOnce(int n) throws IOException {
        String[] status = new String[1];
        try (Socket s = WebSocketClients.rawHandshake(port(), "/ws?topic=t", null, 0, status)) {
            if (!status[0].startsWith("HTTP/1.1 101")) {
                throw new IOException("handshake " + n + ": " + status[0]);
            }
            if (n % 2 == 0) {
                InputStream in = s.getInputStream();
                in.read(new byte[1 + n % 3000]); // part of a frame, perhaps
            }
            if (n % 3 == 0) {
                s.setSoLinger(true, 0); // close with a reset, in the middle of whatever the server writes
            } else {
                // a masked close frame (code 1000, empty mask)
                s.getOutputStream().write(new byte[] {(byte) 0x88, (byte) 0x82, 0, 0, 0, 0, 0x03, (byte) 0xE8});
                s.getOutputStream().flush();
            }
        }
    }

    /** Clients that go away while frames are being written to them: the rest carries on, nothing leaks. */
    @Test
    void sessionsClosedInTheMiddleOfSendingDoNotDisturbTheOthers() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=5s");
        WebSocketClients.Reader steady = reader("t");
        List<WebSocketClients.Reader> leaving = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            leaving.add(reader("t"));
        }
        int frames = 300;
        for (int i = 0; i < frames; i++) {
            publish("in", frame(32 * 1024, i));
            if (i % 15 == 0) {
                leaving.get(i / 15).close(); // aborts the connection while frames are on their way
            }
            if (i % 8 == 7) {
                // the steady client's buffer holds 16 of these: let it catch up, so that it never has to drop one
                int sent = i + 1;
                await().atMost(Duration.ofSeconds(30)).until(() -> steady.size() == sent);
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> steady.size() == frames);
        List<byte[]> got = steady.frames();
        for (int i = 0; i < frames; i++) {
            assertThat(ByteBuffer.wrap(got.get(i)).getInt()).isEqualTo(i);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> fanOut().sessionCount() == 1);
        assertThat(steady.ended()).isFalse();
    }
}
