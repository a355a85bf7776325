package io.github.tinywasm.wasi.autoconfigure.startup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * What a user sees when the configuration is wrong: Spring Boot's own failure report, printed, with every bad value
 * at once, its property, origin and value as written; and a modules location that cannot be used reported before
 * the web server starts, without a stack trace.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConfigurationErrorsTests {

    @TempDir
    Path dir;

    @Test
    void everyBadValueIsReportedAtOnceWithItsOriginAndValueAsWritten(CapturedOutput output) throws Exception {
        Path config = dir.resolve("application.properties");
        Files.writeString(config, """
                tinywasm.wasi.modules-dir=%s
                tinywasm.wasi.mailbox.capacity=0
                tinywasm.wasi.max-memory=1KB
                """.formatted(dir.resolve("modules")));
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .run("--spring.config.location=" + config.toUri(), "--tinywasm.wasi.drain-timeout=-1s",
                        "--tinywasm.wasi.websocket.send-time-limit=0s"));

        String report = output.getOut() + output.getErr();
        assertThat(report).contains("APPLICATION FAILED TO START")
                .contains("Binding to target io.github.tinywasm.wasi.autoconfigure.WasiProperties failed")
                .contains("Property: tinywasm.wasi.drain-timeout\n    Value: \"-1s\"\n"
                        + "    Origin: \"tinywasm.wasi.drain-timeout\" from property source \"commandLineArgs\"\n"
                        + "    Reason: must not be negative")
                .contains("Property: tinywasm.wasi.websocket.send-time-limit\n    Value: \"0s\"\n"
                        + "    Origin: \"tinywasm.wasi.websocket.send-time-limit\" from property source \"commandLineArgs\"\n"
                        + "    Reason: must be a positive duration")
                .contains("Property: tinywasm.wasi.mailbox.capacity\n    Value: \"0\"\n    Origin: URL [" + config.toUri().toURL()
                        + "] - 2:32\n    Reason: must be at least 1")
                .contains("Property: tinywasm.wasi.max-memory\n    Value: \"1KB\"\n    Origin: URL [" + config.toUri().toURL()
                        + "] - 3:26\n    Reason: must be 0 (no limit) or between 64KB and 4GB")
                .contains("Action:\n\nUpdate your application's configuration")
                .doesNotContain("PT-1S").doesNotContain("PT0S");
    }

    @Test
    void aModulesLocationThatIsAFileIsReportedBeforeTheWebServerStarts(CapturedOutput output) throws Exception {
        Path file = Files.writeString(dir.resolve("modules"), "not a folder");
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class)
                .run("--server.port=0", "--tinywasm.wasi.modules-dir=" + file));

        String report = output.getOut() + output.getErr();
        assertThat(report).contains("APPLICATION FAILED TO START")
                .contains("The modules location cannot be used:\n\n    Property: tinywasm.wasi.modules-dir\n    Value: \""
                        + file + "\"\n    Folder: " + file + "\n    Reason: it is a file, not a folder")
                .contains("Action:\n\nSet tinywasm.wasi.modules-dir to a folder")
                .doesNotContain("Tomcat started on port")
                .doesNotContain("\tat ");
    }

    @Test
    void aModulesFolderThatCannotBeCreatedIsReported(CapturedOutput output) throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        Path impossible = file.resolve("modules");
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .run("--tinywasm.wasi.modules-dir=" + impossible));

        assertThat(output.getOut() + output.getErr()).contains("The modules location cannot be used:")
                .contains("Folder: " + impossible + "\n    Reason: it does not exist and cannot be created: ")
                .contains("Action:\n\nCreate the folder")
                .doesNotContain("\tat ");
    }

    @Test
    void aLocationWithAnotherSchemeIsAConfigurationError(CapturedOutput output) {
        assertThatThrownBy(() -> new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .run("--tinywasm.wasi.modules-dir=https://example.com/modules"));

        assertThat(output.getOut() + output.getErr())
                .contains("Property: tinywasm.wasi.modules-dir\n    Value: \"https://example.com/modules\"")
                .contains("Reason: must be a folder (a path, or file: followed by a path) or classpath: followed by a package path");
    }

    /** A whole Spring Boot application, auto-configuration and embedded Tomcat included. */
    @SpringBootApplication(proxyBeanMethods = false)
    static class App {}
}
