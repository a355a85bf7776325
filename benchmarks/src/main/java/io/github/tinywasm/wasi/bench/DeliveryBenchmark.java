package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.module.WasmModule;
import java.util.concurrent.locks.LockSupport;

/**
 * Delivered messages per second of 64-byte messages from a Java publisher into the C guest {@code sink}
 * through the bus (publish, mailbox, worker hand-off, malloc, write, on_message, free), next to two references
 * measured in the same run, one thread each:
 * <ul>
 *   <li><b>raw Chicory</b>, the ceiling: the same guest work called straight on Chicory with nothing of this
 *       project ({@link RawChicoryDelivery});
 *   <li><b>direct deliver</b>: {@link WasmModule#deliver} called in a loop, so that the host's own per-message
 *       cost (argument checks, call watchdog, the allocation contract) shows apart from the bus's.
 * </ul>
 * Rounds alternate between the three; the medians and the ratios to raw Chicory are reported.
 */
final class DeliveryBenchmark {

    private static final int ROUNDS = 9;
    /**
     * Full rounds of each path before measuring: the JIT goes on recompiling the guest's generated classes (tens of
     * kilobytes of bytecode per function) for several million calls.
     */
    private static final int WARM_UP_ROUNDS = 5;

    private DeliveryBenchmark() {}

    static void run() {
        byte[] sink = GuestFiles.read("sink");
        System.out.println();
        System.out.println("== delivery: 64-byte messages into the C guest 'sink': raw Chicory (ceiling), "
                + "WasmModule.deliver, Java publisher -> bus");
        System.out.printf("%-12s %14s %14s %14s %10s %10s %14s%n", "engine", "raw msg/s", "deliver msg/s", "bus msg/s",
                "deliver/raw", "bus/raw", "paired bus/raw");
        for (Engine engine : Engine.values()) {
            String only = System.getProperty("bench.engine");
            if (only != null && !only.equalsIgnoreCase(engine.name())) {
                continue;
            }
            int n = engine == Engine.COMPILER ? 2_000_000 : 100_000;
            WasiConfig config = WasiConfig.builder().engine(engine).build();
            double[] raw = new double[ROUNDS];
            double[] direct = new double[ROUNDS];
            double[] bus = new double[ROUNDS];
            // One instance of each, warmed once and then measured in alternating rounds: a round measures the
            // steady state, not the JIT compiling freshly generated classes.
            try (RawChicoryDelivery rawGuest = new RawChicoryDelivery(sink, engine == Engine.COMPILER);
                    WasmModule module = WasmModule.standalone("sink", sink, config);
                    WasiServer server = new WasiServer(config)) {
                server.load("sink", sink);
                for (int w = 0; w < WARM_UP_ROUNDS; w++) {
                    raw(rawGuest, n);
                    direct(module, n);
                    bus(server, n);
                }
                for (int r = 0; r < ROUNDS; r++) {
                    raw[r] = raw(rawGuest, n);
                    direct[r] = direct(module, n);
                    bus[r] = bus(server, n);
                }
            }
            double c = Benchmarks.median(raw);
            double d = Benchmarks.median(direct);
            double b = Benchmarks.median(bus);
            System.out.printf("%-12s %14.0f %14.0f %14.0f %10.2f %10.2f %14.2f%n", engine.name().toLowerCase(), c, d, b,
                    d / c, b / c, Benchmarks.medianRatio(bus, raw));
            System.out.printf("%-12s bus/raw per round: %s%n", "", Benchmarks.ratios(bus, raw));
            System.out.printf("%-12s deliver/raw per round: %s%n", "", Benchmarks.ratios(direct, raw));
        }
    }

    private static byte[] payload() {
        byte[] payload = new byte[64];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        return payload;
    }

    /** Raw Chicory: the guest work with nothing of this project. */
    static double raw(RawChicoryDelivery guest, int n) {
        byte[] payload = payload();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            guest.deliver(payload);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private static Message message() {
        return Message.of("bench", payload());
    }

    /** Direct calls of {@link WasmModule#deliver}: one thread, no bus. */
    static double direct(WasmModule module, int n) {
        Message m = message();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            module.deliver(m);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /** Through the bus: publish n messages from this thread, wait until the guest has handled all of them. */
    static double bus(WasiServer server, int n) {
        Message m = message();
        long before = server.module("sink").orElseThrow().counters().delivered();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            server.publish(m);
        }
        while (server.module("sink").orElseThrow().counters().delivered() < before + n) {
            LockSupport.parkNanos(200_000);
        }
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        if (server.module("sink").orElseThrow().counters().droppedTotal() != 0) {
            throw new IllegalStateException("messages were dropped");
        }
        return rate;
    }
}
