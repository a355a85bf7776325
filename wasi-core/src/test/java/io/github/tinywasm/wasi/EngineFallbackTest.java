package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** A function too large for one JVM method runs in the interpreter; the rest stays compiled, and it says so. */
class EngineFallbackTest {

    /** on_message publishes big(payload[0]) on "out"; big adds 0..n-1 to its argument one instruction at a time. */
    private static byte[] moduleWithHugeFunction(int n) {
        StringBuilder big = new StringBuilder("  (func $big (param $x i32) (result i32)\n");
        for (int i = 0; i < n; i++) {
            big.append("    (local.set $x (i32.add (local.get $x) (i32.const ").append(i).append(")))\n");
        }
        big.append("    (local.get $x))\n");
        return Guests.onIn("out", big.toString(), """
                    (i32.store (i32.const 2048) (call $big (i32.load8_u (local.get $p))))
                    (call $publish (i32.const 32) (i32.const 3) (i32.const 2048) (i32.const 4))
                """);
    }

    @Test
    void hugeFunctionFallsBackToTheInterpreterAndTheModuleNamesIt() {
        int n = 40_000;
        try (LogCapture logs = new LogCapture(); WasiServer server = new WasiServer(WasiConfig.defaults())) {
            server.load("huge", moduleWithHugeFunction(n));
            ModuleInfo info = server.module("huge").orElseThrow();
            assertThat(info.engine()).isEqualTo("compiler (some functions interpreted)");
            assertThat(logs.lines()).anyMatch(l -> l.contains("[huge]") && l.contains("interpreter"));

            Collector out = new Collector();
            server.subscribe("out", out);
            server.publish("in", new byte[] {5});
            int result = ByteBuffer.wrap(out.awaitCount(1).get(0).payload()).order(ByteOrder.LITTLE_ENDIAN).getInt();
            assertThat(result).isEqualTo(5 + n * (n - 1) / 2);
        }
    }
}
