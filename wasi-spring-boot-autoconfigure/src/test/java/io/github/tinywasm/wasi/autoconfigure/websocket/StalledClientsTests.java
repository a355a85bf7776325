package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Clients that stop reading, on a real Tomcat with real sockets: however many stall, a healthy client keeps
 * receiving every frame at once; a stalled session is closed once; shutdown does not wait for them one by one.
 * (Issue 8, items 11 and 12 and the shutdown item: each of these failed on the blocking-sender design.)
 */
class StalledClientsTests {

    /** More stalled clients than that design's sender threads could ever grow to (cores + 64). */
    private static final int MANY = 100;

    @TempDir
    Path modules;

    private final List<Socket> sockets = new ArrayList<>();
    private ConfigurableApplicationContext context;

    @AfterEach
    void tearDown() throws Exception {
        for (Socket s : sockets) {
            s.close();
        }
        if (context != null) {
            context.close();
        }
    }

    private ConfigurableApplicationContext start(String... properties) throws Exception {
        // 200 pages: 12.5 MiB, room for the 8 MiB frame
        Files.write(modules.resolve("feed.wasm"), BroadcastGuest.wasm("in", "t", 200));
        context = new SpringApplicationBuilder(App.class)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false")
                .properties(properties)
                .run();
        return context;
    }

    private int port() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    private TopicWebSocketHandler handler() {
        return context.getBean(TopicWebSocketHandler.class);
    }

    private void stall(int clients) throws Exception {
        int before = handler().sessionCount();
        for (int i = 0; i < clients; i++) {
            sockets.add(Clients.stalled(port(), "t"));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> handler().sessionCount() == before + clients);
    }

    private static byte[] frame(int size, int seq) {
        byte[] payload = new byte[size];
        ByteBuffer.wrap(payload).putInt(seq);
        return payload;
    }

    @Test
    void aHealthyClientKeepsUpWhateverNumberOfClientsStall() throws Exception {
        // a healthy client held up behind the stalled ones would miss every 10 s deadline below
        start("tinywasm.wasi.websocket.send-time-limit=60s");
        WasiPublisher publisher = context.getBean(WasiPublisher.class);
        stall(MANY);
        try (Clients.Reader healthy = Clients.Reader.connect(port(), "t")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> handler().sessionCount() == MANY + 1);
            int frames = 200; // 64 KiB each: far more than the stalled clients' socket buffers hold
            for (int i = 0; i < frames; i++) {
                publisher.publish("in", frame(64 * 1024 - 8, i));
                int expected = i + 1;
                await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
                        .until(() -> healthy.size() == expected);
            }
            List<byte[]> got = healthy.frames();
            for (int i = 0; i < frames; i++) {
                assertThat(ByteBuffer.wrap(got.get(i)).getInt()).isEqualTo(i);
            }
            assertThat(handler().stats().framesDropped()).isPositive();
        }
    }

    @Test
    void aStalledSessionIsClosedOnceAndOnNewThread() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=300ms");
        WasiPublisher publisher = context.getBean(WasiPublisher.class);
        stall(1);
        Socket stalled = sockets.get(0);
        // larger than any socket buffer: this write can only complete if the client reads
        publisher.publish("in", frame(8 << 20, 0));
        await().atMost(Duration.ofSeconds(20)).until(() -> handler().stats().stalledClosed() >= 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> Clients.readsToEnd(stalled));
        // many sweeps later it was still closed once, no thread was started to close it, and it is gone
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10))
                .until(() -> handler().stats().stalledClosed() == 1 && closerThreads() == 0);
        await().atMost(Duration.ofSeconds(20)).until(() -> handler().sessionCount() == 0);
    }

    private static long closerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("wasi-ws-close")).count();
    }

    @Test
    void shutdownClosesStalledSessionsAtOnceAndHealthyOnesWith1001() throws Exception {
        start("tinywasm.wasi.websocket.send-time-limit=60s");
        WasiPublisher publisher = context.getBean(WasiPublisher.class);
        int clients = 2 * MANY;
        stall(clients);
        Clients.Reader healthy = Clients.Reader.connect(port(), "t");
        await().atMost(Duration.ofSeconds(10)).until(() -> handler().sessionCount() == clients + 1);
        // one frame no socket buffer can hold, then two more, the last of which every stalled client drops: then
        // each of them has a write in flight that will never complete
        publisher.publish("in", frame(8 << 20, 0));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 1);
        publisher.publish("in", frame(600 * 1024, 1));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 2);
        publisher.publish("in", frame(16, 2));
        await().atMost(Duration.ofSeconds(60)).until(() -> healthy.size() == 3 && handler().stats().framesDropped() >= clients);

        long started = System.nanoTime();
        context.close();
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        // closing them one after another, each waiting for its write, would take clients x (a wait per close)
        assertThat(took).isLessThan(Duration.ofSeconds(8));
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.closeCode == 1001);
        for (Socket s : sockets) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Clients.readsToEnd(s));
        }
    }

    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class App {
    }
}
