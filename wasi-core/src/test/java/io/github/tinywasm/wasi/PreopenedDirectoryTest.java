package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Guests see no file system unless a directory is pre-opened for them, and then only that directory. */
class PreopenedDirectoryTest {

    @TempDir
    Path data;

    @Test
    void guestReadsOnlyFromPreopenedDirectories() throws Exception {
        Files.writeString(data.resolve("hello.txt"), "hello from the host\nsecond line\n");
        WasiConfig config = WasiConfig.builder().directory("/data", data).build();
        try (WasiServer server = new WasiServer(config)) {
            server.load("reader", Guests.built("reader"));
            assertThat(Collector.roundTrip(server, "read", "read.out", "/data/hello.txt")).isEqualTo("hello from the host");
            assertThat(Collector.roundTrip(server, "read", "read.out", "/data/missing.txt")).startsWith("error:");
            assertThat(Collector.roundTrip(server, "read", "read.out", "/etc/hostname")).startsWith("error:");
        }
        try (WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("reader", Guests.built("reader"));
            assertThat(Collector.roundTrip(server, "read", "read.out", "/data/hello.txt")).startsWith("error:");
        }
    }
}
