package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.deploy.CompileCache;
import io.github.tinywasm.wasi.deploy.CompileCacheConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compile cache: a redeploy, a rollback and a restart skip the compiler (the cache's counters say so, not a
 * timing); its folder is shared safely, survives a damaged entry and stays within its bound.
 */
class CompileCacheTest {

    @TempDir
    Path cache;

    private static WasiServer server(WasiConfig.Builder config) {
        return new WasiServer(config.build());
    }

    private static List<Path> entries(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> p.getFileName().toString().endsWith(".bin")).toList();
        }
    }

    @Test
    void aRedeployOfKnownBytesAndARollbackSkipTheCompiler() {
        byte[] v1 = Guests.relay("in", "out-1");
        byte[] v2 = Guests.relay("in", "out-2");
        try (WasiServer server = server(WasiConfig.builder())) {
            server.load("m", v1);
            server.load("m", v2);
            assertThat(server.compileCacheStats().compilations()).isEqualTo(2);

            server.load("m", v1); // a redeploy of known bytes
            assertThat(Collector.roundTrip(server, "in", "out-1", "v1")).isEqualTo("v1");
            server.rollback("m");
            assertThat(Collector.roundTrip(server, "in", "out-2", "v2")).isEqualTo("v2");
            server.load("other", v1); // the same bytes as another module
            CompileCache.Stats stats = server.compileCacheStats();
            assertThat(stats.compilations()).as("the compiler ran once per distinct version").isEqualTo(2);
            assertThat(stats.memoryHits()).isEqualTo(2);
            assertThat(server.module("other").orElseThrow().engine()).isEqualTo("compiler");
        }
    }

    @Test
    void aRestartReadsTheCompiledCodeFromTheFolder() {
        byte[] v1 = Guests.relay("in", "out");
        try (WasiServer first = server(WasiConfig.builder().cacheDir(cache))) {
            first.load("m", v1);
            assertThat(first.compileCacheStats().compilations()).isEqualTo(1);
            assertThat(first.compileCacheStats().diskWrites()).isEqualTo(1);
        }
        try (WasiServer restarted = server(WasiConfig.builder().cacheDir(cache))) {
            restarted.load("m", v1);
            CompileCache.Stats stats = restarted.compileCacheStats();
            assertThat(stats.compilations()).as("the compiler did not run").isZero();
            assertThat(stats.diskHits()).isEqualTo(1);
            assertThat(restarted.module("m").orElseThrow().engine()).isEqualTo("compiler");
            assertThat(Collector.roundTrip(restarted, "in", "out", "from the cache")).isEqualTo("from the cache");
        }
    }

    @Test
    void aDamagedEntryIsIgnoredAndRewritten() throws Exception {
        byte[] v1 = Guests.relay("in", "out");
        try (WasiServer first = server(WasiConfig.builder().cacheDir(cache))) {
            first.load("m", v1);
        }
        List<Path> written = entries(cache);
        assertThat(written).hasSize(1);
        byte[] whole = Files.readAllBytes(written.get(0));
        for (byte[] damage : new byte[][] {java.util.Arrays.copyOf(whole, whole.length / 2), "garbage".getBytes(),
                flipLastByte(whole)}) {
            Files.write(written.get(0), damage);
            try (WasiServer server = server(WasiConfig.builder().cacheDir(cache))) {
                server.load("m", v1);
                CompileCache.Stats stats = server.compileCacheStats();
                assertThat(stats.corruptEntries()).isEqualTo(1);
                assertThat(stats.compilations()).isEqualTo(1);
                assertThat(stats.diskWrites()).as("rewritten").isEqualTo(1);
                assertThat(Collector.roundTrip(server, "in", "out", "compiled again")).isEqualTo("compiled again");
            }
            try (WasiServer next = server(WasiConfig.builder().cacheDir(cache))) {
                next.load("m", v1);
                assertThat(next.compileCacheStats().diskHits()).isEqualTo(1);
                assertThat(next.compileCacheStats().corruptEntries()).isZero();
            }
        }
    }

    private static byte[] flipLastByte(byte[] bytes) {
        byte[] copy = bytes.clone();
        copy[copy.length - 1] ^= 0x5A;
        return copy;
    }

    @Test
    void twoServersShareTheFolderAtOnce() throws Exception {
        int modules = 6;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (WasiServer a = server(WasiConfig.builder().cacheDir(cache));
                WasiServer b = server(WasiConfig.builder().cacheDir(cache))) {
            List<Callable<ModuleInfo>> loads = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < modules; i++) {
                    byte[] bytes = Guests.relay("in-" + i, "out-" + i);
                    String name = "m" + i;
                    loads.add(() -> a.load(name, bytes));
                    loads.add(() -> b.load(name, bytes));
                }
            }
            for (Future<ModuleInfo> f : pool.invokeAll(loads)) {
                assertThat(f.get().serving()).isTrue();
            }
            assertThat(a.compileCacheStats().corruptEntries() + b.compileCacheStats().corruptEntries()).isZero();
        } finally {
            pool.shutdown();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        assertThat(entries(cache)).hasSize(modules);
        try (Stream<Path> tmp = Files.list(cache.resolve(".tmp"))) {
            assertThat(tmp).as("no temporary file left").isEmpty();
        }
        try (WasiServer third = server(WasiConfig.builder().cacheDir(cache))) {
            for (int i = 0; i < modules; i++) {
                third.load("m" + i, Guests.relay("in-" + i, "out-" + i));
            }
            assertThat(third.compileCacheStats().compilations()).isZero();
            assertThat(third.compileCacheStats().diskHits()).isEqualTo(modules);
        }
    }

    @Test
    void twoProcessesShareTheFolder() throws Exception {
        int modules = 6;
        List<Process> processes = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            processes.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), CacheWriterMain.class.getName(), cache.toString(),
                    Integer.toString(modules)).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start());
        }
        long compilations = 0;
        for (Process p : processes) {
            String out = new String(p.getInputStream().readAllBytes()).trim();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            String[] counters = out.lines().filter(l -> l.startsWith("STATS ")).findFirst().orElseThrow().split(" ");
            assertThat(Long.parseLong(counters[3])).as("damaged entries seen by a process").isZero();
            compilations += Long.parseLong(counters[1]);
        }
        assertThat(compilations).as("each process compiled at most each module once").isLessThanOrEqualTo(2L * modules);
        assertThat(entries(cache)).hasSize(modules);
        try (WasiServer third = server(WasiConfig.builder().cacheDir(cache))) {
            for (int i = 0; i < modules; i++) {
                third.load("m" + i, Guests.relay("in-" + i, "out-" + i));
            }
            assertThat(third.compileCacheStats().compilations()).isZero();
            assertThat(third.compileCacheStats().diskHits()).isEqualTo(modules);
            assertThat(third.compileCacheStats().corruptEntries()).isZero();
        }
    }

    @Test
    void bothTiersStayWithinTheirBounds() throws Exception {
        byte[] a = Guests.relay("in", "a");
        long entrySize;
        try (WasiServer probe = server(WasiConfig.builder().cacheDir(cache))) {
            probe.load("a", a);
            entrySize = Files.size(entries(cache).get(0));
        }
        CompileCacheConfig bounds = new CompileCacheConfig(cache, entrySize * 2 + entrySize / 2, 1, 64L * 1024 * 1024);
        try (WasiServer server = server(WasiConfig.builder().compileCache(bounds))) {
            for (String out : new String[] {"b", "c", "d", "e"}) {
                server.load("m", Guests.relay("in", out));
            }
            long total = 0;
            for (Path p : entries(cache)) {
                total += Files.size(p);
            }
            assertThat(total).isLessThanOrEqualTo(bounds.maxDiskBytes());
            assertThat(server.compileCacheStats().evictions()).isPositive();

            server.load("x", a); // evicted from disk long ago, and memory holds one version: compiled again
            long before = server.compileCacheStats().compilations();
            server.load("y", Guests.relay("in", "e"));
            assertThat(server.compileCacheStats().compilations()).as("memory held only 'a'; 'e' is still on disk")
                    .isEqualTo(before);
            assertThat(server.compileCacheStats().diskHits()).isEqualTo(1);
        }
    }
}
