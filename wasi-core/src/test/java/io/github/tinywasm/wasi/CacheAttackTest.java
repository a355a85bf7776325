package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.deploy.CompileCacheConfig;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk tier is an optimisation: whatever is wrong with its folder, modules load and serve. */
class CacheAttackTest {

    @TempDir
    Path dir;

    @Test
    void aCacheFolderThatIsAFileOrHoldsFoldersWhereEntriesGoDoesNotStopALoad() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        byte[] v1 = Guests.relay("in", "out");
        try (WasiServer server = new WasiServer(WasiConfig.builder().cacheDir(file).build())) {
            server.load("m", v1);
            assertThat(Collector.roundTrip(server, "in", "out", "served")).isEqualTo("served");
        }
        // every entry replaced by a folder of the same name: unreadable, and not replaceable by the atomic move
        Path cache = dir.resolve("cache");
        try (WasiServer first = new WasiServer(WasiConfig.builder().cacheDir(cache).build())) {
            first.load("m", v1);
        }
        List<Path> entries;
        try (Stream<Path> all = Files.walk(cache)) {
            entries = all.filter(p -> p.getFileName().toString().endsWith(".bin")).toList();
        }
        assertThat(entries).isNotEmpty();
        for (Path e : entries) {
            Files.delete(e);
            Files.createDirectories(e.resolve("child"));
        }
        try (WasiServer second = new WasiServer(WasiConfig.builder().cacheDir(cache).build())) {
            second.load("m", v1);
            assertThat(second.compileCacheStats().compilations()).isEqualTo(1);
            assertThat(Collector.roundTrip(second, "in", "out", "served")).isEqualTo("served");
        }
    }

    @Test
    void evictionDeletesOnlyTheCachesOwnEntries() throws Exception {
        // a cache folder shared with other files (an application's data folder): past the bound, only entries go
        Path precious = Files.write(dir.resolve("firmware.bin"), new byte[64 * 1024]);
        Path nested = Files.createDirectories(dir.resolve("data").resolve("ab"));
        Path alsoPrecious = Files.write(nested.resolve("backup.bin"), new byte[64 * 1024]);
        Files.setLastModifiedTime(precious, FileTime.fromMillis(0)); // the least recently used of all
        Files.setLastModifiedTime(alsoPrecious, FileTime.fromMillis(0));
        try (WasiServer server = new WasiServer(WasiConfig.builder()
                .compileCache(new CompileCacheConfig(dir, 16 * 1024, 16, 64L * 1024 * 1024)).build())) {
            server.load("a", Guests.relay("in", "out-a"));
            server.load("b", Guests.relay("in", "out-b"));
            assertThat(server.compileCacheStats().diskWrites()).isEqualTo(2);
            assertThat(server.compileCacheStats().evictions()).as("the bound was reached: entries were evicted").isPositive();
        }
        assertThat(precious).as("not the cache's: never evicted").exists();
        assertThat(alsoPrecious).as("not the cache's: never evicted").exists();
    }

    @Test
    void aTemporaryFileLeftByAWriterThatDiedIsRemoved() throws Exception {
        // a process killed while writing an entry leaves its temporary file: it must not stay for ever, uncounted
        Path tmp = Files.createDirectories(dir.resolve(".tmp"));
        Path stale = Files.write(tmp.resolve("0e5c1e0a-dead-4bad-8000-000000000000.tmp"), new byte[1024]);
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - Duration.ofDays(1).toMillis()));
        Path writing = Files.write(tmp.resolve("0e5c1e0a-live-4bad-8000-000000000000.tmp"), new byte[1024]);
        try (WasiServer server = new WasiServer(WasiConfig.builder().cacheDir(dir).build())) {
            server.load("m", Guests.relay("in", "out"));
            assertThat(server.compileCacheStats().diskWrites()).isEqualTo(1);
        }
        assertThat(stale).as("left by a writer that died a day ago").doesNotExist();
        assertThat(writing).as("another process may be writing it now").exists();
    }
}
