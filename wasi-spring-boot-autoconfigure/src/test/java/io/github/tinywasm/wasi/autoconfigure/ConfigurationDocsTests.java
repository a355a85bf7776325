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
}
