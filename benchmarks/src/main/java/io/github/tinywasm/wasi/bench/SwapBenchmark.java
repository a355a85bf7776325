package io.github.tinywasm.wasi.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;

/**
 * Time to swap a module, from {@code load(name, bytes)} to commit (parse, compile, instantiate, pause,
 * drain, init, commit), for a small C guest and for a generated guest of about 1 MB of code, next to the
 * time to parse and instantiate the same bytes once outside the server (the floor any swap pays).
 */
final class SwapBenchmark {

    private static final int ROUNDS = 9;

    private SwapBenchmark() {}

    static void run() {
        byte[] small = GuestFiles.read("counter");
        byte[][] large = {largeModule(0), largeModule(1)};
        System.out.println();
        System.out.printf("== swap time (load to commit), median of %d swaps%n", ROUNDS);
        System.out.printf("%-12s %-28s %12s %14s %8s%n", "engine", "guest", "swap ms", "standalone ms", "ratio");
        for (Engine engine : Engine.values()) {
            // no compile cache: each swap compiles, as it measured before the cache existed (see DeployBenchmark)
            WasiConfig config = WasiConfig.builder().engine(engine)
                    .compileCache(new io.github.tinywasm.wasi.deploy.CompileCacheConfig(null, 0, 0, 0)).build();
            report(engine, "counter.c (" + kb(small) + " KB)", config, new byte[][] {small, small});
            report(engine, "generated (" + kb(large[0]) + " KB)", config, large);
        }
    }

    private static String kb(byte[] b) {
        return Long.toString(Math.round(b.length / 1024.0));
    }

    private static void report(Engine engine, String label, WasiConfig config, byte[][] versions) {
        double[] swap = new double[ROUNDS];
        double[] floor = new double[ROUNDS];
        try (WasiServer server = new WasiServer(config)) {
            server.load("m", versions[0]);
            server.load("m", versions[1]); // warm-up
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                server.load("m", versions[r % 2]);
                swap[r] = (System.nanoTime() - t0) / 1e6;
                t0 = System.nanoTime();
                io.github.tinywasm.wasi.module.WasmModule.standalone("m", versions[r % 2], config).close();
                floor[r] = (System.nanoTime() - t0) / 1e6;
            }
        }
        double s = Benchmarks.median(swap);
        double f = Benchmarks.median(floor);
        System.out.printf("%-12s %-28s %12.1f %14.1f %8.2f%n", engine.name().toLowerCase(), label, s, f, s / f);
    }

    /** About 1 MB of code: 2,500 functions of arithmetic over locals, all reachable from an export. */
    static byte[] largeModule(int variant) {
        StringBuilder wat = new StringBuilder("(module\n  (memory (export \"memory\") 1)\n");
        int functions = 2500;
        for (int f = 0; f < functions; f++) {
            wat.append("  (func $f").append(f).append(" (param $x i32) (result i32) (local $a i32) (local $b i32)\n");
            wat.append("    (local.set $a (local.get $x))\n");
            for (int k = 0; k < 24; k++) {
                wat.append("    (local.set $b (i32.add (i32.mul (local.get $a) (i32.const ").append(31 + k + variant)
                        .append(")) (i32.xor (local.get $b) (i32.const ").append(f * 7 + k).append(")))) ");
                wat.append("(local.set $a (i32.rotl (local.get $b) (i32.const ").append(k % 31 + 1).append(")))\n");
            }
            wat.append("    (local.get $a))\n");
        }
        wat.append("  (func (export \"run\") (param $x i32) (result i32)\n");
        for (int f = 0; f < functions; f++) {
            wat.append("    (local.set $x (call $f").append(f).append(" (local.get $x)))\n");
        }
        wat.append("    (local.get $x))\n)\n");
        return wat2wasm(wat.toString());
    }

    /** Debian's wat2wasm (installed by scripts/setup.sh): Chicory's in-JVM wat2wasm runs out of guest memory on 1 MB. */
    private static byte[] wat2wasm(String wat) {
        try {
            Path dir = Files.createTempDirectory("large-module");
            Path in = Files.writeString(dir.resolve("large.wat"), wat);
            Path out = dir.resolve("large.wasm");
            Process p = new ProcessBuilder("wat2wasm", "-o", out.toString(), in.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("wat2wasm failed");
            }
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException("wat2wasm not found: run scripts/setup.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
