package io.github.tinywasm.wasi.autoconfigure.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every cluster meter has a row in docs/configuration.md with its tags and unit, as the engine's meters do. */
class ClusterDocsTests {

    @Test
    void everyClusterMeterIsDocumentedWithItsTagsAndUnit() throws Exception {
        String doc = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("docs/configuration.md"));
        ClusterNode node = new ClusterNode("n", "p:", () -> {
            throw new IllegalStateException("not started");
        }, Duration.ofSeconds(1), 100, 100, List.of(), 10, () -> null, () -> null);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new ClusterMetrics(node).bindTo(registry);
        assertThat(registry.getMeters()).hasSizeGreaterThanOrEqualTo(8);
        for (Meter meter : registry.getMeters()) {
            String name = meter.getId().getName();
            String row = doc.lines().filter(l -> l.startsWith("| `" + name + "` |")).findFirst().orElse("");
            assertThat(row).as("docs/configuration.md has a row for %s", name).isNotEmpty();
            for (Tag tag : meter.getId().getTags()) {
                assertThat(row).as("the row of %s names its tag %s", name, tag.getKey()).contains(tag.getKey());
            }
            String unit = meter.getId().getBaseUnit();
            if (unit != null) {
                assertThat(row).as("the row of %s gives its unit %s", name, unit).contains("| " + unit + " |");
            }
        }
    }
}
