package io.github.tinywasm.wasi.it.plain;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.it.TestGuests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.ClassUtils;

/** The application without a web stack, with the starter's real dependency set. */
class PlainApplicationTests {

    @TempDir
    Path modules;

    @Test
    void itIsNotAWebApplicationAndHasNoWebSocketEndpoint() throws Exception {
        Files.write(modules.resolve("relay.wasm"), TestGuests.relay("requests", "replies"));
        SpringApplicationBuilder builder = new SpringApplicationBuilder(PlainApplication.class)
                .properties("tinywasm.wasi.modules-dir=" + modules, "plain.messages=10");
        try (ConfigurableApplicationContext context = builder.run()) {
            // neither a servlet nor a reactive web server application context, and no port
            assertThat(context.getClass().getSimpleName()).isEqualTo("AnnotationConfigApplicationContext");
            assertThat(context.getEnvironment().getProperty("local.server.port")).isNull();
            assertThat(context.getBean(WasiServer.class).module("relay")).isPresent();
            assertThat(context.containsBean("topicFanOut")).isFalse();
            assertThat(context.containsBean("wasiWebSocketUnavailableNotice")).isFalse();
            assertThat(context.getBean(PlainApplication.Replies.class).count()).isEqualTo(10);
        }
        // the starter brought no web stack with it
        assertThat(ClassUtils.isPresent("jakarta.servlet.Servlet", null)).isFalse();
        assertThat(ClassUtils.isPresent("org.springframework.web.reactive.DispatcherHandler", null)).isFalse();
        assertThat(WebApplicationType.deduce()).isEqualTo(WebApplicationType.NONE);
    }

    /**
     * The real thing: {@code java PlainApplication} in its own JVM does its work and exits by itself, with status 0,
     * having closed the context (the module drained and unloaded) on the way out. A thread that is not a daemon
     * (a web server, a pool) would keep it running until the deadline.
     */
    @Test
    void asAProcessItDoesItsWorkAndTheJvmExitsOnItsOwn() throws Exception {
        Files.write(modules.resolve("relay.wasm"), TestGuests.relay("requests", "replies"));
        Path output = modules.resolveSibling("plain-app-" + System.nanoTime() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                PlainApplication.class.getName(), "--tinywasm.wasi.modules-dir=" + modules, "--plain.messages=100",
                "--spring.main.banner-mode=off"))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        boolean exited = process.waitFor(120, TimeUnit.SECONDS);
        String log = Files.readString(output, StandardCharsets.UTF_8);
        if (!exited) {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        assertThat(exited).as("the JVM exited by itself; its output:%n%s", log).isTrue();
        assertThat(process.exitValue()).as(log).isZero();
        assertThat(log).contains("all 100 replies received");
        assertThat(log).contains("[relay] unloaded: 100 messages delivered");
        assertThat(log).doesNotContain("WebSocket endpoint not registered"); // not a web application: nothing to say
        Files.deleteIfExists(output);
    }
}
