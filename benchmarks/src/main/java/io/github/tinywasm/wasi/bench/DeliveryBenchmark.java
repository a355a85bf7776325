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

    private static final int ROUNDS = 7;

    private DeliveryBenchmark() {}

    static void run() {
        byte[] sink = GuestFiles.read("sink");
        System.out.println();
        System.out.println("== delivery: 64-byte messages into the C guest 'sink': raw Chicory (ceiling), "
                + "WasmModule.deliver, Java publisher -> bus");
        System.out.printf("%-12s %14s %14s %14s %10s %10s%n", "engine", "raw msg/s", "deliver msg/s", "bus msg/s",
                "deliver/raw", "bus/raw");
        for (Engine engine : Engine.values()) {
            int n = engine == Engine.COMPILER ? 2_000_000 : 200_000;
            WasiConfig config = WasiConfig.builder().engine(engine).build();
            double[] raw = new double[ROUNDS];
            double[] direct = new double[ROUNDS];
            double[] bus = new double[ROUNDS];
            raw(sink, engine, n / 4); // warm-up
            direct(sink, config, n / 4);
            bus(sink, config, n / 4);
            for (int r = 0; r < ROUNDS; r++) {
                raw[r] = raw(sink, engine, n);
                direct[r] = direct(sink, config, n);
                bus[r] = bus(sink, config, n);
            }
            double c = Benchmarks.median(raw);
            double d = Benchmarks.median(direct);
            double b = Benchmarks.median(bus);
            System.out.printf("%-12s %14.0f %14.0f %14.0f %10.2f %10.2f%n", engine.name().toLowerCase(), c, d, b,
                    d / c, b / c);
            System.out.printf("%-12s bus/raw per round: %s%n", "", Benchmarks.ratios(bus, raw));
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
    static double raw(byte[] wasm, Engine engine, int n) {
        try (RawChicoryDelivery guest = new RawChicoryDelivery(wasm, engine == Engine.COMPILER)) {
            byte[] payload = payload();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                guest.deliver(payload);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static Message message() {
        return Message.of("bench", payload());
    }

    /** Direct calls of {@link WasmModule#deliver}: one thread, no bus. */
    static double direct(byte[] wasm, WasiConfig config, int n) {
        try (WasmModule module = WasmModule.standalone("sink", wasm, config)) {
            Message m = message();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                module.deliver(m);
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Through the bus: publish n messages from this thread, wait until the guest has handled all of them. */
    static double bus(byte[] wasm, WasiConfig config, int n) {
        try (WasiServer server = new WasiServer(config)) {
            server.load("sink", wasm);
            Message m = message();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                server.publish(m);
            }
            while (server.module("sink").orElseThrow().counters().delivered() < n) {
                LockSupport.parkNanos(200_000);
            }
            double rate = n / ((System.nanoTime() - t0) / 1e9);
            if (server.module("sink").orElseThrow().counters().droppedTotal() != 0) {
                throw new IllegalStateException("messages were dropped");
            }
            return rate;
        }
    }
}
