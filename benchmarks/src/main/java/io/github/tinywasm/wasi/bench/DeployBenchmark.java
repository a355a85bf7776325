package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.deploy.CompileCache;
import io.github.tinywasm.wasi.deploy.CompileCacheConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Safe deploys: the time of a swap whose version the compiler must compile, finds compiled in memory, or finds in the
 * disk cache, next to the interpreter's load of the same bytes (no compiler at all), in the same run; and the start of
 * a server with 20 modules with an empty and with a warm disk cache. The cache's own counters confirm that the hits
 * skipped the compiler.
 */
final class DeployBenchmark {

    private static final int ROUNDS = 7;
    private static final int MODULES = 20;
    private static final CompileCacheConfig NO_CACHE = new CompileCacheConfig(null, 0, 0, 0);

    private DeployBenchmark() {}

    static void run() throws IOException {
        byte[] small = GuestFiles.read("counter");
        byte[] large = SwapBenchmark.largeModule(0);
        System.out.println();
        System.out.printf("== swap time by where the compiled version comes from, median of %d swaps%n", ROUNDS);
        System.out.printf("%-28s %12s %12s %12s %14s %10s %10s%n", "guest", "compile ms", "memory ms", "disk ms",
                "interpreter ms", "mem/int", "disk/int");
        swaps("counter.c (" + kb(small) + " KB)", small);
        swaps("generated (" + kb(large) + " KB)", large);
        restart(small);
    }

    private static void swaps(String label, byte[] wasm) throws IOException {
        byte[][] versions = {variant(wasm, 0), variant(wasm, 1)};
        Path dir = Files.createTempDirectory("bench-cache");
        try {
            double compile = swap(WasiConfig.builder().compileCache(NO_CACHE).build(), versions, -1);
            double memory = swap(WasiConfig.builder().build(), versions, 2);
            double disk = swap(WasiConfig.builder().compileCache(new CompileCacheConfig(dir, 1L << 32, 0, 0)).build(),
                    versions, 2);
            double interpreter = swap(WasiConfig.builder().engine(Engine.INTERPRETER).compileCache(NO_CACHE).build(),
                    versions, -1);
            System.out.printf("%-28s %12.1f %12.1f %12.1f %14.1f %10.2f %10.2f%n", label, compile, memory, disk,
                    interpreter, memory / interpreter, disk / interpreter);
        } finally {
            delete(dir);
        }
    }

    /**
     * Median time of a swap between the two versions.
     *
     * @param compilations how many compiler runs the cache must have counted at the end (2: the warm-up only), or -1
     */
    private static double swap(WasiConfig config, byte[][] versions, long compilations) {
        double[] times = new double[ROUNDS];
        try (WasiServer server = new WasiServer(config)) {
            server.load("m", versions[0]);
            server.load("m", versions[1]); // warm-up: both versions compiled once (and cached, if there is a cache)
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                server.load("m", versions[r % 2]);
                times[r] = (System.nanoTime() - t0) / 1e6;
            }
            CompileCache.Stats stats = server.compileCacheStats();
            if (compilations >= 0 && stats.compilations() != compilations) {
                throw new IllegalStateException("expected the compiler to run " + compilations + " times, it ran "
                        + stats.compilations() + " times: " + stats);
            }
        }
        return Benchmarks.median(times);
    }

    private static void restart(byte[] wasm) throws IOException {
        Path modules = Files.createTempDirectory("bench-modules");
        Path warm = Files.createTempDirectory("bench-cache-warm");
        try {
            for (int i = 0; i < MODULES; i++) {
                Files.write(modules.resolve("m" + i + ".wasm"), variant(wasm, 100 + i));
            }
            double[] empty = new double[ROUNDS];
            double[] warmed = new double[ROUNDS];
            double[] interpreted = new double[ROUNDS];
            start(modules, warm); // fills the warm cache
            for (int r = 0; r < ROUNDS; r++) {
                Path fresh = Files.createTempDirectory("bench-cache-empty");
                try {
                    empty[r] = start(modules, fresh);
                } finally {
                    delete(fresh);
                }
                warmed[r] = start(modules, warm);
                interpreted[r] = startInterpreted(modules);
            }
            double e = Benchmarks.median(empty);
            double w = Benchmarks.median(warmed);
            double i = Benchmarks.median(interpreted);
            System.out.println();
            System.out.printf("== start of a server with %d modules (counter.c variants), median of %d starts%n",
                    MODULES, ROUNDS);
            System.out.printf("%-34s %10s %12s%n", "", "start ms", "vs empty");
            System.out.printf("%-34s %10.1f %12.2f%n", "compiler, empty cache-dir", e, 1.0);
            System.out.printf("%-34s %10.1f %12.2f%n", "compiler, warm cache-dir", w, w / e);
            System.out.printf("%-34s %10.1f %12.2f%n", "interpreter (no compiler)", i, i / e);
        } finally {
            delete(modules);
            delete(warm);
        }
    }

    /** Time of {@code start()}: every module of the folder loaded. */
    private static double start(Path modules, Path cache) {
        WasiConfig config = WasiConfig.builder().modulesDir(modules).watch(false).cacheDir(cache).build();
        try (WasiServer server = new WasiServer(config)) {
            long t0 = System.nanoTime();
            server.start();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (server.modules().size() != MODULES) {
                throw new IllegalStateException("not every module loaded");
            }
            return ms;
        }
    }

    private static double startInterpreted(Path modules) {
        WasiConfig config = WasiConfig.builder().modulesDir(modules).watch(false).engine(Engine.INTERPRETER)
                .compileCache(NO_CACHE).build();
        try (WasiServer server = new WasiServer(config)) {
            long t0 = System.nanoTime();
            server.start();
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    /** The module with a custom section appended: the same code, other bytes (another SHA-256, another cache key). */
    static byte[] variant(byte[] wasm, int n) {
        byte[] name = "tinywasm-bench".getBytes(StandardCharsets.US_ASCII);
        byte[] payload = Integer.toString(n).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        leb(body, name.length);
        body.writeBytes(name);
        body.writeBytes(payload);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(wasm);
        out.write(0); // custom section
        leb(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void leb(ByteArrayOutputStream out, int value) {
        do {
            int b = value & 0x7F;
            value >>>= 7;
            out.write(value != 0 ? b | 0x80 : b);
        } while (value != 0);
    }

    private static String kb(byte[] b) {
        return Long.toString(Math.round(b.length / 1024.0));
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
