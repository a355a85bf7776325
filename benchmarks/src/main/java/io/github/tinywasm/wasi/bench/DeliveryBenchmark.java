package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.module.WasmModule;
import java.util.concurrent.locks.LockSupport;

/**
 * Delivered messages per second of 64-byte messages from a Java publisher into the C guest {@code sink}
 * through the bus (publish, mailbox, worker hand-off, malloc, write, on_message, free), next to the ceiling:
 * the same per-message guest work ({@link WasmModule#deliver}) called directly in a loop on one thread.
 * Rounds alternate between the two; the medians and their ratio are reported.
 */
final class DeliveryBenchmark {

    private static final int ROUNDS = 7;

    private DeliveryBenchmark() {}

    static void run() {
        byte[] sink = GuestFiles.read("sink");
        System.out.println();
        System.out.println("== delivery: 64-byte messages, Java publisher -> bus -> C guest 'sink' vs direct calls");
        System.out.printf("%-12s %16s %16s %8s%n", "engine", "ceiling msg/s", "bus msg/s", "ratio");
        for (Engine engine : Engine.values()) {
            int n = engine == Engine.COMPILER ? 2_000_000 : 200_000;
            WasiConfig config = WasiConfig.builder().engine(engine).build();
            double[] ceiling = new double[ROUNDS];
            double[] bus = new double[ROUNDS];
            ceiling(sink, config, n / 4); // warm-up
            bus(sink, config, n / 4);
            for (int r = 0; r < ROUNDS; r++) {
                ceiling[r] = ceiling(sink, config, n);
                bus[r] = bus(sink, config, n);
            }
            double c = Benchmarks.median(ceiling);
            double b = Benchmarks.median(bus);
            System.out.printf("%-12s %16.0f %16.0f %8.2f%n", engine.name().toLowerCase(), c, b, b / c);
        }
    }

    private static Message message() {
        byte[] payload = new byte[64];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        return Message.of("bench", payload);
    }

    /** Direct calls: one thread, no bus. */
    static double ceiling(byte[] wasm, WasiConfig config, int n) {
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
