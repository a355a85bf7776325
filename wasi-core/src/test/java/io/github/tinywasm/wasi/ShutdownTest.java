package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Stopping and closing: bounded by the drain timeout whatever the guests do, nothing accepted lost without being
 * counted, nothing running or loaded afterwards (issue 8, items 5 and 8, and the races it asks about).
 */
class ShutdownTest {

    /** Generous bound for "it returns at all": the drain timeouts below are a few hundred ms. */
    private static final Duration RETURNS = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private WasiServer server;
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void close() throws InterruptedException {
        release.countDown();
        if (server != null) {
            // never let a defect hang the suite: close on a daemon thread, for a bounded time
            Thread closer = new Thread(server::close, "test-close");
            closer.setDaemon(true);
            closer.start();
            closer.join(RETURNS.toMillis());
        }
    }

    private static final String LOOPS_ON_LOOP = """
                (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 108)) (then (loop $forever (br $forever))))
                (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))
            """;

    private static final class Errors implements WasiListener {
        final List<WasiModuleException> errors = new CopyOnWriteArrayList<>();

        @Override
        public void guestError(String module, WasiModuleException error) {
            errors.add(error);
        }
    }

    /** Item 8: with call-timeout 0 a looping guest used to hang stop() (and close()) forever. */
    @Test
    void stopIsBoundedByTheDrainTimeoutWhenNoCallTimeoutStopsALoopingGuest() {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ZERO).drainTimeout(Duration.ofMillis(300)).build());
        Errors errors = new Errors();
        server.addListener(errors);
        server.start();
        server.load("spinner", Guests.onIn("out", LOOPS_ON_LOOP));
        server.publish("in", "loop");
        await().atMost(RETURNS).until(() -> server.module("spinner").orElseThrow().mailboxDepth() == 0); // in the loop
        server.publish("in", "queued behind the loop");

        assertTimeoutPreemptively(RETURNS, server::stop);

        assertThat(server.modules()).isEmpty();
        assertThat(errors.errors).isNotEmpty().first().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(WasiModuleException.Kind.TIMEOUT);
            assertThat(e.getMessage()).isEqualTo("module 'spinner': on_message was interrupted at the drain timeout (the module was being loaded, stopped or replaced)");
        });
        assertTimeoutPreemptively(RETURNS, server::close);
    }

    /** Item 8: the same for a guest whose drain() never returns, and for close() of a server never started. */
    @Test
    void closeIsBoundedWhenDrainLoopsAndNoCallTimeoutIsSet() {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ZERO).drainTimeout(Duration.ofMillis(300)).build());
        server.load("stuck", Guests.wat(Guests.relayWat("in", "out", """
                  (func (export "drain") (result i32) (loop $forever (br $forever)) (i32.const 0))
                """)));
        server.load("spinner", Guests.onIn("out", LOOPS_ON_LOOP));
        server.publish("in", "loop");

        assertTimeoutPreemptively(RETURNS, server::close);
        assertThat(server.modules()).isEmpty();
    }

    /** A swap waits for the old version's current message at most the drain timeout, whatever the call timeout. */
    @Test
    void swapIsBoundedByTheDrainTimeoutWhenTheOldVersionLoops() {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ZERO).drainTimeout(Duration.ofMillis(300)).build());
        server.load("m", Guests.onIn("out", LOOPS_ON_LOOP));
        server.publish("in", "loop");
        await().atMost(RETURNS).until(() -> server.module("m").orElseThrow().mailboxDepth() == 0);

        ModuleInfo swapped = assertTimeoutPreemptively(RETURNS, () -> server.load("m", Guests.relay("in", "out")));

        assertThat(swapped.counters().swaps()).isEqualTo(1);
        assertThat(swapped.counters().timeouts()).isEqualTo(1);
        assertThat(Collector.roundTrip(server, "in", "out", "new version")).isEqualTo("new version");
    }

    /** Item 5: close() used to shut the pool with accepted messages still queued: 4,096 of 6,000 delivered. */
    @Test
    void closeDeliversWhatJavaSubscribersAlreadyAccepted() {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(60)).build());
        AtomicInteger received = new AtomicInteger();
        Subscription s = server.subscribe("t", m -> {
            LockSupport.parkNanos(20_000); // a slow subscriber
            received.incrementAndGet();
        });
        for (int i = 0; i < 6000; i++) {
            server.publish("t", "m" + i);
        }

        assertTimeoutPreemptively(Duration.ofSeconds(90), server::close);

        assertThat(received.get()).isEqualTo(6000);
        assertThat(s.dropped()).isZero();
    }

    /** Item 5: what close() cannot deliver within the drain timeout is counted, never lost silently. */
    @Test
    void whatCloseCannotDeliverWithinTheDrainTimeoutIsCounted() {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(300)).build());
        AtomicInteger received = new AtomicInteger();
        Subscription s = server.subscribe("t", m -> {
            received.incrementAndGet();
            try {
                release.await(); // stuck until the test ends, or until close() interrupts it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < 6000; i++) {
            server.publish("t", "m" + i);
        }
        await().atMost(RETURNS).until(() -> received.get() == 1);

        try (LogCapture logs = new LogCapture()) {
            assertTimeoutPreemptively(RETURNS, server::close);
            assertThat(s.dropped()).isEqualTo(5999);
            assertThat(logs.lines()).anyMatch(l -> l.contains("WASI server closed: 5999 accepted message(s) could not be delivered within the drain timeout of 300 ms"));
        }
    }

    /** Item 5: publishes after close() fail clearly; thousands of them change nothing. */
    @Test
    void publishesAfterCloseFailWithAClearException() {
        server = new WasiServer(WasiConfig.defaults());
        Collector t = new Collector();
        server.subscribe("t", t);
        server.close();
        for (int i = 0; i < 10_000; i++) {
            assertThatThrownBy(() -> server.publish("t", "late"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("the WASI server is closed: cannot publish on topic 't'");
        }
        assertThatThrownBy(() -> server.publish(Message.of("t", new byte[0]))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> server.subscribe("t", m -> {})).isInstanceOf(IllegalStateException.class)
                .hasMessage("the WASI server is closed: cannot subscribe to topic 't'");
        assertThatThrownBy(() -> server.load("m", Guests.relay("a", "b"))).isInstanceOf(IllegalStateException.class);
        assertThat(t.size()).isZero();
    }

    /** A load racing close(): it fails, or its module is unloaded by the close; nothing stays loaded. */
    @Test
    void loadRacingCloseLeavesNothingLoaded() throws Exception {
        byte[] guest = Guests.relay("in", "out");
        for (int round = 0; round < 20; round++) {
            WasiServer s = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofMillis(200)).build());
            AtomicInteger loaded = new AtomicInteger();
            List<Throwable> unexpected = new CopyOnWriteArrayList<>();
            Thread loader = new Thread(() -> {
                for (int i = 0; ; i++) {
                    try {
                        s.load("m" + (i % 4), guest);
                        loaded.incrementAndGet();
                    } catch (IllegalStateException e) {
                        return; // closed
                    } catch (Throwable e) {
                        unexpected.add(e);
                        return;
                    }
                }
            });
            loader.start();
            int before = 2 + round % 5;
            await().atMost(RETURNS).until(() -> loaded.get() >= before);
            assertTimeoutPreemptively(RETURNS, s::close);
            loader.join(RETURNS.toMillis());
            assertThat(loader.isAlive()).isFalse();
            assertThat(unexpected).isEmpty();
            assertThat(s.modules()).as("modules left after close, round %d", round).isEmpty();
            assertThat(s.topics()).isEmpty();
        }
    }

    /** Issue 7 asks for bean constructors without side effects: a new server starts no thread. */
    @Test
    void aNewServerStartsNoThreadAndWorksWithoutStart() {
        Set<Thread> before = wasiThreads();
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ofSeconds(5)).build());
        assertThat(wasiThreads()).as("threads started by the constructor").isSubsetOf(before);
        server.load("echo", Guests.relay("in", "out"));
        assertThat(Collector.roundTrip(server, "in", "out", "without start")).isEqualTo("without start");
    }

    private static Set<Thread> wasiThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("wasi-"))
                .collect(Collectors.toSet());
    }

    /**
     * The folder watcher is loading a module (its start-up stuck in a host call that ignores interrupts) when the
     * server stops: stop() returns within its bound, and the module, loaded after stop() has passed, does not stay.
     */
    @Test
    void moduleTheWatcherLoadsAfterStopHasPassedDoesNotStay() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        Logger guestLog = (Logger) LoggerFactory.getLogger("io.github.tinywasm.wasi.guest.late");
        AppenderBase<ILoggingEvent> stuck = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                if (!event.getFormattedMessage().contains("block")) {
                    return;
                }
                entered.countDown();
                while (true) {
                    try {
                        release.await(); // swallows interrupts, as badly behaved I/O does
                        return;
                    } catch (InterruptedException ignored) {
                        // keep waiting
                    }
                }
            }
        };
        stuck.start();
        guestLog.addAppender(stuck);
        try {
            server = new WasiServer(WasiConfig.builder().modulesDir(dir).watchQuietPeriod(Duration.ofMillis(100))
                    .watchPollInterval(Duration.ofMillis(300)).drainTimeout(Duration.ofMillis(300)).build());
            server.start();
            Files.write(dir.resolve("late.wasm"), Guests.wat("(module\n" + Guests.IMPORTS + """
                      (memory (export "memory") 1)
                      (data (i32.const 16) "block")
                      (func $start (call $log (i32.const 16) (i32.const 5)))
                      (export "_initialize" (func $start)))
                    """));
            if (!entered.await(RETURNS.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
                fail("the watcher never started loading late.wasm");
            }

            assertTimeoutPreemptively(RETURNS, server::stop);
            assertThat(server.isRunning()).isFalse();

            release.countDown(); // the load completes now, after stop()
            await().atMost(RETURNS).until(() -> server.module("late").isEmpty());
            assertThat(server.topics()).isEmpty();
        } finally {
            release.countDown();
            guestLog.detachAppender(stuck);
        }
    }

    /**
     * close() called by a Java subscriber (an @EventListener reacting to a "shutdown" message) must not wait for that
     * subscriber, which is the caller: with a drain timeout of 60 s it would hang a minute, then interrupt itself.
     */
    @Test
    void closeCalledFromAJavaSubscriberDoesNotWaitForItself() {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(60)).build());
        server.load("m", Guests.relay("in", "out"));
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        server.subscribe("shutdown", msg -> {
            server.close();
            interrupted.set(Thread.currentThread().isInterrupted());
            closed.set(true);
        });

        server.publish("shutdown", "now");

        await().atMost(RETURNS).untilTrue(closed);
        assertThat(interrupted).as("the closing subscriber was interrupted by its own close").isFalse();
        assertThat(server.module("m")).isEmpty();
    }

    /**
     * A first load whose init loops, with call-timeout 0 (no watchdog for calls): the load must fail within the drain
     * timeout rather than hold start() (and the folder watcher) forever; the other modules of the folder load.
     */
    @Test
    void aFirstLoadWhoseInitLoopsFailsAtTheDrainTimeoutWithoutACallTimeout() throws Exception {
        java.nio.file.Files.write(dir.resolve("a-loops.wasm"), Guests.wat(Guests.relayWat("in", "out", "").replace(
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))",
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)) (loop $l (br $l)))")));
        java.nio.file.Files.write(dir.resolve("b-fine.wasm"), Guests.relay("in", "out"));
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).callTimeout(Duration.ZERO)
                .drainTimeout(Duration.ofMillis(500)).build());
        Thread starter = new Thread(server::start, "test-start");
        starter.setDaemon(true);
        starter.start();

        await().atMost(RETURNS).until(() -> !starter.isAlive());
        ModuleInfo loops = server.module("a-loops").orElseThrow();
        assertThat(loops.state()).isEqualTo(ModuleState.FAILED);
        assertThat(loops.lastError()).contains("init").contains("drain timeout");
        assertThat(server.module("b-fine").orElseThrow().state()).isEqualTo(ModuleState.SERVING);
        Collector out = new Collector();
        server.subscribe("out", out);
        server.publish("in", "served");
        assertThat(out.awaitCount(1)).extracting(Message::payloadAsString).containsExactly("served");
    }
}
