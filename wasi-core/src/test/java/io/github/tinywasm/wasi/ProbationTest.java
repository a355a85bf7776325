package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.deploy.ModuleFiles;
import io.github.tinywasm.wasi.deploy.ProbationConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Probation: a new version that traps too often right after its swap goes back to the version it replaced, by itself. */
class ProbationTest {

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    /** Republishes each payload on {@code out}, then traps: what it was handed is seen once, and it fails every time. */
    private static byte[] trapsAfterPublishing(String out) {
        return Guests.wat(Guests.relayWat("in", out, "").replace(
                "(call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l)))".formatted(out.length()),
                "(call $publish (i32.const 512) (i32.const %d) (local.get $p) (local.get $l)) unreachable)".formatted(out.length())));
    }

    record RolledBack(String module, boolean automatic, String from, String to, String reason) {}

    @Test
    void aVersionThatTrapsOnEveryMessageIsRolledBackWhileANumberedStreamFlows() throws Exception {
        server = new WasiServer(WasiConfig.builder().probation(new ProbationConfig(Duration.ofMinutes(5), 3)).build());
        List<RolledBack> events = new CopyOnWriteArrayList<>();
        server.addListener(new WasiListener() {
            @Override
            public void moduleRolledBack(String module, boolean automatic, String from, String to, String reason) {
                events.add(new RolledBack(module, automatic, from, to, reason));
            }
        });
        byte[] v1 = Guests.relay("in", "out-1");
        byte[] v2 = Guests.relay("in", "out-2");
        byte[] bad = trapsAfterPublishing("out-3");
        server.load("m", v1);
        // every number a version was handed, whichever version: one list
        List<Integer> seen = new CopyOnWriteArrayList<>();
        for (String out : new String[] {"out-1", "out-2", "out-3"}) {
            server.subscribe(out, m -> seen.add(Integer.parseInt(m.payloadAsString())));
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        Thread publisher = new Thread(() -> {
            while (!stop.get()) {
                server.publish("in", Integer.toString(sent.getAndIncrement()));
                Thread.onSpinWait();
            }
        });
        publisher.start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() > 100);
            server.load("m", v2);
            await().atMost(Duration.ofSeconds(20)).until(() -> server.module("m").orElseThrow().counters().delivered() > 200);
            server.load("m", bad); // on probation: traps on its first messages, then goes back to v2 by itself
            await().atMost(Duration.ofSeconds(30)).until(() -> server.module("m").orElseThrow().counters().rollbacks() == 1);
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() > sent.get() / 2 && seen.size() > 500);
        } finally {
            stop.set(true);
            publisher.join();
        }
        int total = sent.get();
        await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() >= total);
        List<Integer> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertThat(sorted).as("every number handed to a version exactly once")
                .containsExactlyElementsOf(IntStream.range(0, total).boxed().toList());

        ModuleInfo m = server.module("m").orElseThrow();
        assertThat(m.sha256()).isEqualTo(ModuleFiles.sha256(v2));
        assertThat(m.previousSha256()).isEqualTo(ModuleFiles.sha256(bad));
        assertThat(m.counters().swaps()).isEqualTo(3);
        assertThat(m.counters().traps()).isGreaterThanOrEqualTo(3);
        assertThat(m.counters().dropped().values()).allMatch(n -> n == 0);
        assertThat(events).containsExactly(new RolledBack("m", true, ModuleFiles.sha256(bad), ModuleFiles.sha256(v2),
                events.get(0).reason()));
        assertThat(events.get(0).reason()).contains("3 traps or timeouts within the probation of 300000 ms", "trapped");
        // rolled back: v2 serves, in order from here
        assertThat(Collector.roundTrip(server, "in", "out-2", "after")).isEqualTo("after");
    }

    @Test
    void noRollbackWithoutProbationOrAfterIt() throws Exception {
        server = new WasiServer(WasiConfig.builder().probation(new ProbationConfig(Duration.ofMillis(1), 1)).build());
        server.load("m", Guests.relay("in", "out"));
        server.load("m", trapsAfterPublishing("out"));
        long loadedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> System.nanoTime() - loadedAt > Duration.ofMillis(50).toNanos());
        Collector out = new Collector();
        server.subscribe("out", out);
        server.publish("in", "past the probation");
        out.awaitCount(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("m").orElseThrow().counters().traps() == 1);
        assertThat(server.module("m").orElseThrow().counters().rollbacks()).isZero();

        // a first load has nothing to go back to
        server.load("first", trapsAfterPublishing("first-out"));
        server.publish("in", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.module("first").orElseThrow().counters().traps() == 1);
        assertThat(server.module("first").orElseThrow().counters().rollbacks()).isZero();
    }
}
