package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.deploy.ModuleFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Versions of a module: identical bytes, rollback, validation, and a swap bounded whatever the new version's init does. */
class VersionsTest {

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private ModuleInfo info(String name) {
        return server.module(name).orElseThrow();
    }

    @Test
    void loadingTheServingBytesIsANoOpUnlessForced() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] v1 = Guests.relay("in", "out");
        assertThat(server.load("m", v1, false).outcome()).isEqualTo(LoadResult.Outcome.LOADED);

        LoadResult again = server.load("m", v1, false);
        assertThat(again.outcome()).isEqualTo(LoadResult.Outcome.UNCHANGED);
        assertThat(again.module().counters().swaps()).isZero();

        LoadResult forced = server.load("m", v1, true);
        assertThat(forced.outcome()).isEqualTo(LoadResult.Outcome.SWAPPED);
        assertThat(forced.module().counters().swaps()).isEqualTo(1);
        assertThat(forced.module().previousSha256()).as("the same bytes are not a version to go back to").isNull();
        assertThat(Collector.roundTrip(server, "in", "out", "still serving")).isEqualTo("still serving");
    }

    @Test
    void aRollbackSwapsBackToThePreviousVersionAndASecondOneRollsForward() {
        server = new WasiServer(WasiConfig.defaults());
        byte[] v1 = Guests.relay("in", "out-1");
        byte[] v2 = Guests.relay("in", "out-2");
        server.load("m", v1);
        assertThatThrownBy(() -> server.rollback("m")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("module 'm' has no previous version");
        assertThatThrownBy(() -> server.rollback("nope")).isInstanceOf(NoSuchElementException.class)
                .hasMessageContaining("no module named 'nope'");

        server.load("m", v2);
        assertThat(info("m").previousSha256()).isEqualTo(ModuleFiles.sha256(v1));
        assertThat(Collector.roundTrip(server, "in", "out-2", "v2")).isEqualTo("v2");

        LoadResult back = server.rollback("m");
        assertThat(back.outcome()).isEqualTo(LoadResult.Outcome.ROLLED_BACK);
        assertThat(back.module().sha256()).isEqualTo(ModuleFiles.sha256(v1));
        assertThat(back.module().previousSha256()).isEqualTo(ModuleFiles.sha256(v2));
        assertThat(back.module().counters().swaps()).isEqualTo(2);
        assertThat(Collector.roundTrip(server, "in", "out-1", "v1 again")).isEqualTo("v1 again");

        assertThat(server.rollback("m").module().sha256()).isEqualTo(ModuleFiles.sha256(v2));
        assertThat(Collector.roundTrip(server, "in", "out-2", "v2 again")).isEqualTo("v2 again");
    }

    @Test
    void aRollbackLosesNoMessageOfAStreamThatFlowsMeanwhile() throws Exception {
        server = new WasiServer(WasiConfig.defaults());
        server.load("m", Guests.relay("in", "out"));
        server.load("m", Guests.wat(Guests.relayWat("in", "out", "(func (export \"v2\"))")));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean stop = new AtomicBoolean();
        int[] sent = new int[1];
        Thread publisher = new Thread(() -> {
            while (!stop.get()) {
                server.publish("in", Integer.toString(sent[0]++));
            }
        });
        publisher.start();
        for (int i = 0; i < 6; i++) {
            server.rollback("m");
        }
        stop.set(true);
        publisher.join();
        assertThat(out.awaitCount(sent[0], Duration.ofSeconds(30))).extracting(Message::payloadAsString)
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, sent[0]).mapToObj(Integer::toString).toList());
        assertThat(info("m").counters().swaps()).isEqualTo(7);
    }

    @Test
    void reloadWithoutForceOfAnUnchangedFileIsANoOp() throws Exception {
        Files.write(dir.resolve("m.wasm"), Guests.relay("in", "out"));
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.start();
        assertThat(server.reload("m", false).outcome()).isEqualTo(LoadResult.Outcome.UNCHANGED);
        assertThat(server.reload("m", true).outcome()).isEqualTo(LoadResult.Outcome.SWAPPED);
        Files.write(dir.resolve("m.wasm"), Guests.relay("in", "out-2"));
        assertThat(server.reload("m", false).outcome()).isEqualTo(LoadResult.Outcome.SWAPPED);
        assertThat(info("m").counters().swaps()).isEqualTo(2);
    }

    @Test
    void validateCompilesTheFolderFileWithoutServingIt() throws Exception {
        byte[] v1 = Guests.relay("in", "out");
        Files.write(dir.resolve("m.wasm"), v1);
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.start();
        ModuleValidation same = server.validate("m");
        assertThat(same.sameAsServing()).isTrue();
        assertThat(same.engine()).isEqualTo("compiler");

        byte[] v2 = Guests.relay("in", "out-2");
        Files.write(dir.resolve("m.wasm"), v2);
        ModuleValidation next = server.validate("m");
        assertThat(next.sameAsServing()).isFalse();
        assertThat(next.sha256()).isEqualTo(ModuleFiles.sha256(v2));
        assertThat(info("m").sha256()).as("nothing served").isEqualTo(ModuleFiles.sha256(v1));

        Files.writeString(dir.resolve("m.wasm"), "not wasm");
        assertThatThrownBy(() -> server.validate("m")).isInstanceOf(WasiModuleException.class)
                .satisfies(e -> assertThat(((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.INVALID_MODULE));
        Files.write(dir.resolve("bad-import.wasm"), Guests.wat("(module (import \"env\" \"nope\" (func)))"));
        assertThatThrownBy(() -> server.validate("bad-import")).isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("env.nope");
        assertThat(info("m").lastLoadFailed()).as("a validation is not a load").isFalse();
        assertThat(server.module("bad-import")).isEmpty();
        assertThat(Collector.roundTrip(server, "in", "out", "serving")).isEqualTo("serving");
    }

    /**
     * Found by review1 (ReviewFindingsTest): with call-timeout 0, a new version whose init loops held the swap (and the
     * paused old version) for ever. The new version's init is bounded by the drain timeout; the swap fails with a clear
     * error and the old version keeps serving what was queued meanwhile.
     */
    @Test
    void aNewVersionWhoseInitLoopsFailsTheSwapAndTheOldVersionKeepsServing() throws Exception {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ZERO).drainTimeout(Duration.ofSeconds(1)).build());
        server.load("m", Guests.relay("in", "out"));
        byte[] loopingInit = Guests.wat(Guests.relayWat("in", "out", "").replace(
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))",
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)) (loop $l (br $l)))"));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean returned = new AtomicBoolean();
        WasiModuleException[] failure = new WasiModuleException[1];
        Thread swapper = new Thread(() -> {
            try {
                server.load("m", loopingInit);
            } catch (WasiModuleException e) {
                failure[0] = e; // a failed swap is the right outcome: the old version keeps serving
            } finally {
                returned.set(true);
            }
        }, "review-swapper");
        swapper.setDaemon(true);
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        server.publish("in", "while swapping");

        // drain-timeout (1 s) plus the 2 s stop() is allowed, and a wide margin for a busy machine
        await().atMost(Duration.ofSeconds(15)).untilTrue(returned);
        assertThat(out.awaitCount(1, Duration.ofSeconds(10))).extracting(Message::payloadAsString)
                .containsExactly("while swapping");
        assertThat(failure[0]).isNotNull();
        assertThat(failure[0].kind()).isEqualTo(WasiModuleException.Kind.TIMEOUT);
        assertThat(failure[0].getMessage()).contains("'m'", "init did not return within the drain timeout of 1000 ms");
        assertThat(info("m").state()).isEqualTo(ModuleState.SERVING);
        assertThat(info("m").lastLoadFailed()).isTrue();
    }

    /** Found by rev-deploy: validate said VALID for a module whose exports have the wrong types; the reload then failed. */
    @Test
    void validateFindsAnExportOfTheWrongTypeAsTheReloadWould() throws Exception {
        Files.write(dir.resolve("m.wasm"), Guests.relay("in", "out"));
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.start();
        // on_message takes one parameter instead of two
        Files.write(dir.resolve("m.wasm"), Guests.wat("(module (memory (export \"memory\") 1) "
                + "(func (export \"on_message\") (param i32)))"));
        assertThatThrownBy(() -> server.reload("m", false)).isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("exports on_message with type");
        assertThatThrownBy(() -> server.validate("m")).isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("exports on_message with type")
                .satisfies(e -> assertThat(((WasiModuleException) e).kind()).isEqualTo(WasiModuleException.Kind.LINK));
    }
}
