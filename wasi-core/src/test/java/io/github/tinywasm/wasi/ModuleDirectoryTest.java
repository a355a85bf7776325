package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real files in a real folder, followed by the watcher. */
class ModuleDirectoryTest {

    private static final Duration QUIET = Duration.ofMillis(400);

    @TempDir
    Path dir;

    private WasiServer server;

    @BeforeEach
    void start() throws Exception {
        Files.write(dir.resolve("first.wasm"), Guests.relay("in", "first-out"));
        Files.writeString(dir.resolve("readme.txt"), "not a module");
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watchQuietPeriod(QUIET)
                .watchPollInterval(Duration.ofMillis(500)).build());
        server.start();
    }

    @AfterEach
    void close() {
        server.close();
    }

    private Optional<ModuleInfo> module(String name) {
        return server.module(name);
    }

    private String sha(byte[] bytes) {
        return io.github.tinywasm.wasi.deploy.ModuleFiles.sha256(bytes);
    }

    private void awaitSha(String name, byte[] bytes) {
        await().atMost(Duration.ofSeconds(15)).until(
                () -> module(name).map(ModuleInfo::sha256).orElse("").equals(sha(bytes)));
    }

    @Test
    void modulesInTheFolderAreLoadedAtStartAndOthersIgnored() {
        assertThat(server.modules()).extracting(ModuleInfo::name).containsExactly("first");
        ModuleInfo first = module("first").orElseThrow();
        assertThat(first.file()).isEqualTo(dir.resolve("first.wasm").toString());
        assertThat(first.size()).isEqualTo(dir.resolve("first.wasm").toFile().length());
        assertThat(first.loadedAt()).isNotNull();
    }

    @Test
    void createdFileIsLoaded() throws Exception {
        byte[] bytes = Guests.relay("in", "second-out");
        Files.write(dir.resolve("second.wasm"), bytes);
        awaitSha("second", bytes);
        assertThat(Collector.roundTrip(server, "in", "second-out", "hi")).isEqualTo("hi");
    }

    @Test
    void overwrittenFileIsSwappedAndATouchIsNot() throws Exception {
        byte[] v2 = Guests.relay("in", "first-v2");
        Files.write(dir.resolve("first.wasm"), v2);
        awaitSha("first", v2);
        assertThat(module("first").orElseThrow().counters().swaps()).isEqualTo(1);

        // Same bytes, new modification time: nothing to swap.
        Files.setLastModifiedTime(dir.resolve("first.wasm"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        byte[] marker = Guests.relay("in", "marker");
        Files.write(dir.resolve("marker.wasm"), marker);
        awaitSha("marker", marker); // the watcher has settled every event older than this one
        assertThat(module("first").orElseThrow().counters().swaps()).isEqualTo(1);
    }

    @Test
    void atomicRenameIsOneSwap() throws Exception {
        byte[] v2 = Guests.relay("in", "renamed");
        Path tmp = dir.resolve("first.wasm.partial");
        Files.write(tmp, v2);
        Files.move(tmp, dir.resolve("first.wasm"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        awaitSha("first", v2);
        ModuleInfo info = module("first").orElseThrow();
        assertThat(info.counters().swaps()).isEqualTo(1);
        assertThat(info.counters().failedLoads()).isZero();
    }

    @Test
    void deletedFileIsUnloaded() throws Exception {
        Files.delete(dir.resolve("first.wasm"));
        await().atMost(Duration.ofSeconds(15)).until(() -> module("first").isEmpty());
        Collector out = new Collector();
        server.subscribe("first-out", out);
        server.publish("in", "nobody listens");
        // a module that is loaded afterwards proves the publish above was processed with nobody subscribed
        byte[] other = Guests.relay("in", "other-out");
        Files.write(dir.resolve("other.wasm"), other);
        awaitSha("other", other);
        assertThat(out.size()).isZero();
    }

    /** A file written in chunks, with pauses shorter than the quiet period, is loaded once, complete. */
    @Test
    void fileWrittenSlowlyInChunksIsLoadedOnlyWhenComplete() throws Exception {
        byte[] bytes = Guests.relay("in", "slow-out");
        Path file = dir.resolve("slow.wasm");
        try (OutputStream out = Files.newOutputStream(file)) {
            int chunk = Math.max(1, bytes.length / 8);
            for (int off = 0; off < bytes.length; off += chunk) {
                out.write(bytes, off, Math.min(chunk, bytes.length - off));
                out.flush();
                // a slow writer: pauses shorter than the quiet period, so the file must not be loaded half-way
                java.util.concurrent.TimeUnit.MILLISECONDS.sleep(QUIET.toMillis() / 8); // 8x margin for a busy machine
            }
        }
        awaitSha("slow", bytes);
        ModuleInfo info = module("slow").orElseThrow();
        assertThat(info.counters().failedLoads()).isZero();
        assertThat(info.lastError()).isNull();
    }

    @Test
    void corruptFileDoesNotReplaceTheServingVersion() throws Exception {
        String sha = module("first").orElseThrow().sha256();
        Files.writeString(dir.resolve("first.wasm"), "garbage");
        await().atMost(Duration.ofSeconds(15)).until(() -> module("first").orElseThrow().lastLoadFailed());
        ModuleInfo info = module("first").orElseThrow();
        assertThat(info.sha256()).isEqualTo(sha);
        assertThat(info.state()).isEqualTo(ModuleState.SERVING);
        assertThat(info.lastError()).contains("not a valid WebAssembly module");
        assertThat(Collector.roundTrip(server, "in", "first-out", "old version")).isEqualTo("old version");
    }

    @Test
    void newFileEventDrivesLoadsLikeTinywasmWasi() throws Exception {
        WasiServer manual = new WasiServer(WasiConfig.defaults());
        try {
            Path file = dir.resolve("manual.wasm");
            Files.write(file, Guests.relay("in", "manual-out"));
            manual.newFileEvent("manual.wasm", ".wasm", file.toString(), "create");
            assertThat(manual.module("manual")).isPresent();
            manual.newFileEvent("readme.txt", ".txt", dir.resolve("readme.txt").toString(), "create");
            assertThat(manual.modules()).hasSize(1);
            Files.delete(file);
            manual.newFileEvent("manual.wasm", ".wasm", file.toString(), "remove");
            assertThat(manual.module("manual")).isEmpty();
        } finally {
            manual.close();
        }
    }
}
