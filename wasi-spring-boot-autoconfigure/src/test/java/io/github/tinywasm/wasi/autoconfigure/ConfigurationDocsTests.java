package io.github.tinywasm.wasi.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/configuration.md documents every property of the generated metadata, and no property that is gone. */
class ConfigurationDocsTests {

    @Test
    void everyPropertyIsDocumented() throws Exception {
        String metadata = new String(getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json").readAllBytes());
        int hints = metadata.indexOf("\"hints\"");
        metadata = metadata.substring(metadata.indexOf("\"properties\""), hints > 0 ? hints : metadata.length());
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("\"name\"\\s*:\\s*\"(tinywasm\\.wasi\\.[a-z0-9.-]+)\"").matcher(metadata);
        while (m.find()) {
            names.add(m.group(1));
        }
        assertThat(names).contains("tinywasm.wasi.modules-dir", "tinywasm.wasi.websocket.path");

        Path docs = Path.of("").toAbsolutePath().getParent().resolve("docs/configuration.md");
        String doc = Files.readString(docs);
        for (String name : names) {
            if (!name.equals("tinywasm.wasi.preopened-dirs")) {
                assertThat(doc).as("docs/configuration.md documents %s", name).contains("`" + name + "`");
            }
        }
        Matcher d = Pattern.compile("`(tinywasm\\.wasi\\.[a-z0-9.-]+)`").matcher(doc);
        while (d.find()) {
            String documented = d.group(1);
            assertThat(names.contains(documented) || documented.startsWith("tinywasm.wasi.preopened-dirs"))
                    .as("%s in docs/configuration.md is a real property", documented).isTrue();
        }
    }

    @Test
    void everyMeterAndObservationIsDocumentedWithItsTagsAndUnit() throws Exception {
        String doc = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("docs/configuration.md"));
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (io.github.tinywasm.wasi.WasiServer server = new io.github.tinywasm.wasi.WasiServer(io.github.tinywasm.wasi.WasiConfig.defaults())) {
            server.start();
            io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetrics metrics =
                    new io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetrics(server,
                            new io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut(1024, java.time.Duration.ofSeconds(1)));
            metrics.bindTo(registry);
            server.load("relay", io.github.tinywasm.wasi.Guests.relay("in", "out"));
            server.load("relay", io.github.tinywasm.wasi.Guests.relay("in", "out2"));
            for (io.micrometer.core.instrument.Meter meter : registry.getMeters()) {
                String name = meter.getId().getName();
                String row = doc.lines().filter(l -> l.startsWith("| `" + name + "` |")).findFirst().orElse("");
                assertThat(row).as("docs/configuration.md has a row for %s", name).isNotEmpty();
                for (io.micrometer.core.instrument.Tag tag : meter.getId().getTags()) {
                    assertThat(row).as("the row of %s names its tag %s", name, tag.getKey()).contains(tag.getKey());
                }
                String unit = meter.getId().getBaseUnit();
                if (unit != null) {
                    assertThat(row).as("the row of %s gives its unit %s", name, unit).contains("| " + unit + " |");
                }
            }
            metrics.destroy();
        }
        for (io.github.tinywasm.wasi.autoconfigure.observation.BusObservationDocumentation o
                : io.github.tinywasm.wasi.autoconfigure.observation.BusObservationDocumentation.values()) {
            assertThat(doc).contains("| `" + o.getName() + "` |");
            for (io.micrometer.common.docs.KeyName key : o.getLowCardinalityKeyNames()) {
                assertThat(doc).contains("| `" + key.asString() + "` | low |");
            }
            for (io.micrometer.common.docs.KeyName key : o.getHighCardinalityKeyNames()) {
                assertThat(doc).contains("| `" + key.asString() + "` | high");
            }
        }
    }
}
