package io.github.tinywasm.wasi.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Many concurrent WebSocket clients on one node: the server ({@link ConnectionsServer}: {@code fanout.wasm}
 * broadcasting with {@code ws_broadcast} at {@code /ws?topic=fan}, and the STOMP simple broker at
 * {@code /stomp}) runs in its own JVM with a fixed heap and Tomcat tuned for the largest step; the clients
 * ({@link BroadcastClients}) run in this JVM, on loopback.
 *
 * <p>For each client count and each side: the server's heap after full GC with the clients connected, subscribed
 * and idle, minus the same with none, per client; then {@value #BROADCASTS} broadcasts (after
 * {@value #WARMUP} unmeasured ones), one at a time, each timed on this JVM's clock from the command to the
 * server until the last client has received it. Clients are closed, and the server seen to hold no connection,
 * before the next step. Steps: {@code BENCH_CONNECTIONS} (comma-separated, default 1000,2000,5000,10000).
 */
public final class ConnectionsBenchmark {

    static final int BROADCASTS = 100;
    static final int WARMUP = 10;
    private static final int[] DEFAULT_STEPS = {1000, 2000, 5000, 10000};
    /** The shootout criterion: the largest count whose p95 stays under this. */
    private static final double SHOOTOUT_P95_MS = 500;
    static final String SERVER_HEAP = "2g";
    private static final int BROADCAST_TIMEOUT_SECONDS = 30;

    private ConnectionsBenchmark() {}

    /** One side at one count. */
    record Result(int clients, double heapPerClientBytes, double clientHeapPerClientBytes, double connectSeconds,
            double[] latenciesMs) {
        double percentile(double p) {
            double[] sorted = latenciesMs.clone();
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(p / 100 * sorted.length);
            return sorted[Math.max(0, rank - 1)];
        }
    }

    public static void run() throws Exception {
        int[] steps = steps();
        int max = Arrays.stream(steps).max().orElseThrow();
        checkLimits(max);
        List<String> tomcat = List.of(
                // every client holds one connection; Tomcat's default (8192) refuses to serve more
                "server.tomcat.max-connections=" + (max + 1000),
                // handshakes arrive in bursts: a longer accept queue than the default 100 (the kernel caps it at somaxconn)
                "server.tomcat.accept-count=1000",
                // an idle WebSocket holds no thread; 200 (the default) is plenty for the handshakes
                "server.tomcat.threads.max=200");
        String load = loadAverage();
        System.out.println();
        System.out.printf("== Connections: N idle /ws and STOMP clients on loopback, server JVM -Xmx%s, %d cores;"
                + " load average at start %s%n", SERVER_HEAP, Runtime.getRuntime().availableProcessors(), load);
        List<Result[]> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start(SERVER_HEAP, tomcat)) {
            System.out.println("   server: " + server.settings);
            // Tomcat counts the acceptor waiting for the next connection as one
            long idle = Long.parseLong(server.ask("connections", 30));
            long seq = 0;
            // warm-up, not reported: classes, caches and JIT of both sides, so the first step's heap is not theirs
            int warm = Math.min(steps[0], 200);
            measure(server, warm, false, seq, idle);
            seq += BROADCASTS + WARMUP;
            measure(server, warm, true, seq, idle);
            seq += BROADCASTS + WARMUP;
            System.out.printf("%8s | %-38s | %-38s%n", "", "wasi /ws?topic= (ws_broadcast)", "STOMP simple broker");
            System.out.printf("%8s | %9s %8s %8s %8s | %9s %8s %8s %8s%n", "clients", "heap/conn", "p50 ms",
                    "p95 ms", "p99 ms", "heap/conn", "p50 ms", "p95 ms", "p99 ms");
            boolean[] failed = new boolean[2];
            for (int n : steps) {
                Result[] row = new Result[2];
                String[] cells = new String[2];
                for (int side = 0; side < 2; side++) {
                    if (failed[side]) {
                        cells[side] = String.format("%-38s", "not run (failed at a smaller count)");
                        continue;
                    }
                    try {
                        row[side] = measure(server, n, side == 1, seq, idle);
                        Result r = row[side];
                        cells[side] = String.format("%5.1f KiB %8.1f %8.1f %8.1f", r.heapPerClientBytes() / 1024,
                                r.percentile(50), r.percentile(95), r.percentile(99));
                    } catch (RuntimeException e) {
                        // larger counts would fail too: report what was measured, and why this was not
                        failed[side] = true;
                        cells[side] = String.format("%-38s", "failed (below)");
                        failures.add(String.format("%s at %d clients: %s", side == 0 ? "wasi" : "STOMP", n,
                                e.getMessage()));
                    }
                    seq += BROADCASTS + WARMUP;
                }
                rows.add(row);
                System.out.printf("%8d | %s | %s%n", n, cells[0], cells[1]);
                if (failed[0] && failed[1]) {
                    break;
                }
            }
        }
        for (String f : failures) {
            System.out.println("   failed: " + f);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("   shootout (largest N tested with p95 < %.0f ms): wasi %s, STOMP %s; per core: %s, %s%n",
                SHOOTOUT_P95_MS, shootout(rows, 0, 1), shootout(rows, 1, 1), shootout(rows, 0, cores), shootout(rows, 1, cores));
        for (Result[] row : rows) {
            for (int side = 0; side < 2; side++) {
                Result r = row[side];
                if (r != null) {
                    System.out.printf("   %s %d clients: connected and subscribed in %.1f s; clients' heap in this JVM"
                            + " %.1f KiB per connection%n", side == 0 ? "wasi " : "STOMP", r.clients(),
                            r.connectSeconds(), r.clientHeapPerClientBytes() / 1024);
                }
            }
        }
        System.out.println("   load average at end " + loadAverage());
    }

    private static Result measure(ServerProcess server, int n, boolean stomp, long seqBase, long idle)
            throws Exception {
        String side = stomp ? "stomp" : "wasi";
        URI uri = URI.create("ws://127.0.0.1:" + server.port + (stomp ? "/stomp" : "/ws?topic=fan"));
        awaitConnections(server, idle);
        long heap0 = Long.parseLong(server.ask("heap", 120));
        long clientHeap0 = heapAfterGc();
        BroadcastClients clients = new BroadcastClients(stomp);
        try {
            long t0 = System.nanoTime();
            clients.connect(uri, n);
            clients.awaitProbe(() -> server.send(side + " P"), 120);
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            progress("%s %d: connected and subscribed in %.1f s", side, n, connectSeconds);
            long heapN = Long.parseLong(server.ask("heap", 120));
            long clientHeapN = heapAfterGc();
            double[] latencies = new double[BROADCASTS];
            for (int i = 0; i < WARMUP + BROADCASTS; i++) {
                long seq = seqBase + i + 1;
                BroadcastClients.Round round = clients.expect(seq);
                long sent = System.nanoTime();
                server.send(side + " " + seq);
                long last;
                try {
                    // the first may wait behind probes still being fanned out
                    last = round.lastReceipt.get(i == 0 ? 4 * BROADCAST_TIMEOUT_SECONDS : BROADCAST_TIMEOUT_SECONDS,
                            TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new IllegalStateException(side + " broadcast " + seq + ": " + round.missing.get() + " of "
                            + n + " clients did not receive it within " + (i == 0 ? 4 : 1) * BROADCAST_TIMEOUT_SECONDS + " s");
                }
                if (i >= WARMUP) {
                    latencies[i - WARMUP] = (last - sent) / 1e6;
                }
            }
            progress("%s %d: %d broadcasts done", side, n, WARMUP + BROADCASTS);
            return new Result(n, (double) (heapN - heap0) / n, (double) (clientHeapN - clientHeap0) / n,
                    connectSeconds, latencies);
        } finally {
            clients.close();
        }
    }

    /**
     * Waits until the server's connection count is back to {@code expected} (as counted with no client), i.e. it
     * has closed its side of every connection of the previous step.
     */
    private static void awaitConnections(ServerProcess server, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long now;
        while ((now = Long.parseLong(server.ask("connections", 30))) != expected) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("server still counts " + now + " connections 60 s after the clients"
                        + " closed (" + expected + " with no client)");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /**
     * The largest count tested whose p95 is under the criterion, divided by {@code divisor}: {@code ">= N"} when
     * every count tested passed (the limit lies beyond), {@code "none"} when none did.
     */
    private static String shootout(List<Result[]> rows, int side, int divisor) {
        int best = 0;
        boolean all = !rows.isEmpty();
        for (Result[] row : rows) {
            if (row[side] != null && row[side].percentile(95) < SHOOTOUT_P95_MS) {
                best = Math.max(best, row[side].clients());
            } else {
                all = false;
            }
        }
        return best == 0 ? "none" : (all ? ">= " : "") + best / divisor;
    }

    private static int[] steps() {
        String env = System.getenv("BENCH_CONNECTIONS");
        if (env == null || env.isBlank()) {
            return DEFAULT_STEPS;
        }
        try {
            return Arrays.stream(env.split(",")).map(String::trim).mapToInt(Integer::parseInt).sorted().toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("BENCH_CONNECTIONS must be comma-separated client counts: " + env);
        }
    }

    /** Fails early, saying what to raise, when this machine cannot hold {@code max} connections. */
    private static void checkLimits(int max) throws IOException {
        Path limits = Path.of("/proc/self/limits");
        if (Files.isReadable(limits)) {
            for (String line : Files.readAllLines(limits)) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    if (!soft.equals("unlimited") && Long.parseLong(soft) < max + 1000) {
                        throw new IllegalStateException("open-files limit " + soft + " is below " + (max + 1000)
                                + " for " + max + " clients: raise it (ulimit -n) before running");
                    }
                }
            }
        }
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (Files.isReadable(range)) {
            // a /proc file reports size 0: read it by lines, not by its size
            String[] r = String.join(" ", Files.readAllLines(range)).trim().split("\\s+");
            if (r.length != 2) {
                return;
            }
            int ports = Integer.parseInt(r[1]) - Integer.parseInt(r[0]) + 1;
            if (ports < max + 1000) {
                throw new IllegalStateException("ephemeral port range " + r[0] + "-" + r[1] + " (" + ports
                        + " ports) is too small for " + max + " clients: widen net.ipv4.ip_local_port_range");
            }
        }
    }

    /** A progress line on standard error, apart from the table. */
    private static void progress(String format, Object... args) {
        System.err.printf("   [%tT] %s%n", System.currentTimeMillis(), String.format(format, args));
    }

    /** This JVM's heap used after full collections (the clients' side). */
    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static String loadAverage() {
        try {
            String[] l = Files.readAllLines(Path.of("/proc/loadavg")).get(0).trim().split(" ");
            return l[0] + " " + l[1] + " " + l[2];
        } catch (IOException | RuntimeException e) {
            return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }
}
