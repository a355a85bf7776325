package io.github.tinywasm.wasi.bench;

import java.util.Arrays;
import java.util.List;

/**
 * Entry point of the benchmark harness: {@code scripts/bench.sh [delivery|swap|deploy|fanout|http|cluster|connections|all]}.
 * Every figure is printed next to a reference measured in the same run, with the ratio between them.
 * {@code connections} (a second JVM, up to ten thousand sockets, about five minutes) is not part of {@code all}.
 */
public final class Benchmarks {

    private Benchmarks() {}

    public static void main(String[] args) throws Exception {
        List<String> which = args.length == 0 ? List.of("all") : Arrays.asList(args);
        boolean all = which.contains("all");
        System.out.printf("tinywasm-wasi benchmarks on %s %s, %d cores, max heap %d MiB%n",
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        if (all || which.contains("delivery")) {
            DeliveryBenchmark.run();
        }
        if (all || which.contains("swap")) {
            SwapBenchmark.run();
        }
        if (all || which.contains("deploy")) {
            DeployBenchmark.run();
        }
        if (all || which.contains("fanout")) {
            runFanOut();
        }
        if (all || which.contains("http")) {
            HttpBenchmark.run();
        }
        if (all || which.contains("cluster")) {
            ClusterBenchmark.run();
        }
        if (which.contains("connections")) {
            ConnectionsBenchmark.run();
        }
    }

    private static void runFanOut() throws Exception {
        try {
            Class.forName("io.github.tinywasm.wasi.bench.FanOutBenchmark").getMethod("run").invoke(null);
        } catch (ClassNotFoundException e) {
            System.out.println("fan-out benchmark not built");
        }
    }

    /** Each round's ratio {@code a[i] / b[i]}, for the spread next to the median. */
    static String ratios(double[] a, double[] b) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < a.length; i++) {
            out.append(i == 0 ? "" : " ").append(String.format("%.2f", a[i] / b[i]));
        }
        return out.toString();
    }

    /** Median of the values. */
    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
