package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The compiler defines JVM classes for every compiled module version. After many swaps, the old instances,
 * their class loaders and their memories must be collectable: loaded classes and heap return near their
 * baseline after a GC.
 */
class SwapLeakTest {

    private static final int SWAPS = 100;
    private static final int PAGES = 32; // 2 MiB of linear memory per instance: a leak of 100 would show

    private static byte[] version(int v) {
        return Guests.wat(Guests.relayWat("in", "out-" + v, "").replace("(memory (export \"memory\") 2)",
                "(memory (export \"memory\") " + PAGES + ")"));
    }

    @Test
    void hundredCompiledSwapsLeaveNoClassesOrMemoriesBehind() {
        ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        byte[][] versions = new byte[SWAPS + 10][];
        for (int i = 0; i < versions.length; i++) {
            versions[i] = version(i);
        }
        try (WasiServer server = new WasiServer(WasiConfig.builder().engine(Engine.COMPILER).build())) {
            for (int i = 0; i < 10; i++) { // warm up: load the compiler's own classes and the test's
                server.load("leaky", versions[i]);
                server.publish("in", "x");
            }
            assertBelow(classes, memory, Long.MAX_VALUE, Long.MAX_VALUE);
            long baseClasses = settledClasses(classes);
            long baseHeap = settledHeap(memory);
            long unloadedBefore = classes.getUnloadedClassCount();

            for (int i = 10; i < versions.length; i++) {
                server.load("leaky", versions[i]);
                server.publish("in", "x");
            }
            assertThat(server.module("leaky").orElseThrow().counters().swaps()).isEqualTo(versions.length - 1);
            assertThat(server.module("leaky").orElseThrow().engine()).isEqualTo("compiler");

            // Generous bounds: 100 leaked versions would add hundreds of classes and 200 MiB of memories.
            assertBelow(classes, memory, baseClasses + 60, baseHeap + 40L * 1024 * 1024);
            // the compiled classes of old versions were really unloaded, not merely never created
            assertThat(classes.getUnloadedClassCount() - unloadedBefore).isGreaterThanOrEqualTo(SWAPS);
        }
    }

    private static void assertBelow(ClassLoadingMXBean classes, MemoryMXBean memory, long maxClasses, long maxHeap) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            System.gc();
            assertThat((long) classes.getLoadedClassCount()).isLessThan(maxClasses);
            assertThat(memory.getHeapMemoryUsage().getUsed()).isLessThan(maxHeap);
        });
    }

    private static long settledClasses(ClassLoadingMXBean classes) {
        System.gc();
        return classes.getLoadedClassCount();
    }

    private static long settledHeap(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
