package io.github.tinywasm.wasi;

import java.nio.file.Path;

/**
 * A second process for {@link CompileCacheTest}: loads the given number of modules with the compile cache in the given
 * folder, then prints the cache's counters as {@code STATS compilations diskHits corruptEntries} (among its log lines).
 */
public final class CacheWriterMain {

    private CacheWriterMain() {}

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int modules = Integer.parseInt(args[1]);
        try (WasiServer server = new WasiServer(WasiConfig.builder().cacheDir(dir).build())) {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < modules; i++) {
                    server.load("m" + i, Guests.relay("in-" + i, "out-" + i));
                }
            }
            var stats = server.compileCacheStats();
            System.out.println("STATS " + stats.compilations() + " " + stats.diskHits() + " " + stats.corruptEntries());
        }
    }
}
