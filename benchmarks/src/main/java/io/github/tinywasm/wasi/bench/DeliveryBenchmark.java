package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.module.WasmModule;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleSupplier;

/**
 * Delivered messages per second of 64-byte messages from a Java publisher into the C guest {@code sink}
 * through the bus (publish, mailbox, worker hand-off, malloc, write, on_message, free), next to two references
 * measured in the same run:
 * <ul>
 *   <li><b>raw Chicory</b>, the ceiling: the same guest work called straight on Chicory with nothing of this
 *       project ({@link RawChicoryDelivery});
 *   <li><b>direct deliver</b>: {@link WasmModule#deliver} called in a loop, so that the host's own per-message
 *       cost (argument checks, call watchdog, the allocation contract) shows apart from the bus's.
 * </ul>
 *
 * <p>Each path runs in a JVM of its own ({@value #FORKS} forks per path, taken in turn: raw, deliver, bus, raw,
 * ...), as JMH forks do: the guest instance of one path is then the only one the JIT sees. Measured in one JVM,
 * three instances of the same guest share Chicory's runtime code (the export call, the memory accessors), its call
 * sites see three generated classes instead of one, and what the JIT decides for one path depends on the others:
 * per-round ratios then ranged from 0.55 to 1.1. A fork warms up for {@value #WARM_UP_ROUNDS} rounds and reports the
 * median of {@value #ROUNDS}; the run reports, per path, the median of its forks and each fork's figure.
 */
final class DeliveryBenchmark {

    private static final int FORKS = 3;
    private static final int ROUNDS = 7;
    /**
     * Rounds before measuring: the JIT goes on recompiling the guest's generated classes (tens of kilobytes of
     * bytecode per function) for several million calls.
     */
    private static final int WARM_UP_ROUNDS = 5;
    private static final String RESULT = "@@ ";

    /** The three ways into the guest that one run compares. */
    private enum Route { RAW, DELIVER, BUS }

    private DeliveryBenchmark() {}

    static void run() throws IOException, InterruptedException {
        System.out.println();
        System.out.println("== delivery: 64-byte messages into the C guest 'sink': raw Chicory (ceiling), "
                + "WasmModule.deliver, Java publisher -> bus; each path in its own JVM, " + FORKS + " forks each");
        System.out.printf("%-12s %14s %14s %14s %12s %10s%n", "engine", "raw msg/s", "deliver msg/s", "bus msg/s",
                "deliver/raw", "bus/raw");
        for (Engine engine : Engine.values()) {
            String only = System.getProperty("bench.engine");
            if (only != null && !only.equalsIgnoreCase(engine.name())) {
                continue;
            }
            double[][] rates = new double[Route.values().length][FORKS];
            for (int f = 0; f < FORKS; f++) {
                for (Route path : Route.values()) {
                    rates[path.ordinal()][f] = fork(path, engine);
                }
            }
            double raw = Benchmarks.median(rates[Route.RAW.ordinal()]);
            double deliver = Benchmarks.median(rates[Route.DELIVER.ordinal()]);
            double bus = Benchmarks.median(rates[Route.BUS.ordinal()]);
            String name = engine.name().toLowerCase(Locale.ROOT);
            System.out.printf("%-12s %14.0f %14.0f %14.0f %12.2f %10.2f%n", name, raw, deliver, bus, deliver / raw,
                    bus / raw);
            for (Route path : Route.values()) {
                System.out.printf("%-12s %s per fork (msg/s): %s%n", "", path.name().toLowerCase(Locale.ROOT),
                        perFork(rates[path.ordinal()]));
            }
        }
    }

    private static String perFork(double[] rates) {
        StringBuilder out = new StringBuilder();
        for (double r : rates) {
            out.append(out.isEmpty() ? "" : " ").append(String.format("%.0f", r));
        }
        return out.toString();
    }

    /** Runs one path in a child JVM and returns its median rate. */
    private static double fork(Route path, Engine engine) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xms1g");
        command.add("-Xmx1g");
        command.add("-cp");
        command.add(ServerProcess.classpath());
        command.add(DeliveryBenchmark.class.getName());
        command.add(path.name());
        command.add(engine.name());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Double rate = null;
        List<String> output = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(RESULT)) {
                    rate = Double.parseDouble(line.substring(RESULT.length()).trim());
                } else {
                    output.add(line);
                }
            }
        }
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0 || rate == null) {
            process.destroyForcibly();
            throw new IllegalStateException("the " + path + " fork failed: " + String.join("\n", output));
        }
        return rate;
    }

    /** A fork: {@code PATH ENGINE}; prints the median rate of its measured rounds after {@value #RESULT}. */
    public static void main(String[] args) throws Exception {
        Route path = Route.valueOf(args[0]);
        Engine engine = Engine.valueOf(args[1]);
        int n = engine == Engine.COMPILER ? 2_000_000 : 50_000;
        byte[] sink = GuestFiles.read("sink");
        WasiConfig config = WasiConfig.builder().engine(engine).build();
        double[] rates;
        switch (path) {
            case RAW -> {
                try (RawChicoryDelivery guest = new RawChicoryDelivery(sink, engine == Engine.COMPILER)) {
                    rates = rounds(() -> raw(guest, n));
                }
            }
            case DELIVER -> {
                try (WasmModule module = WasmModule.standalone("sink", sink, config)) {
                    rates = rounds(() -> direct(module, n));
                }
            }
            default -> {
                try (WasiServer server = new WasiServer(config)) {
                    server.load("sink", sink);
                    rates = rounds(() -> bus(server, n));
                }
            }
        }
        System.out.println(RESULT + Benchmarks.median(rates));
    }

    /** {@value #WARM_UP_ROUNDS} rounds to warm up, then the rates of {@value #ROUNDS} measured ones. */
    private static double[] rounds(DoubleSupplier round) {
        double[] rates = new double[ROUNDS];
        for (int r = -WARM_UP_ROUNDS; r < ROUNDS; r++) {
            double rate = round.getAsDouble();
            if (r >= 0) {
                rates[r] = rate;
            }
        }
        return rates;
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
