package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.WasiServer;
import java.util.Objects;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.coyote.AbstractProtocol;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.messaging.simp.SimpMessagingTemplate;

/**
 * The connections benchmark's server, run by {@link ConnectionsBenchmark} in its own JVM: the fan-out
 * application ({@code fanout.wasm} broadcasting every message on {@code fan-in} to the {@code /ws?topic=fan}
 * clients, and the STOMP simple broker at {@code /stomp}), controlled through standard input, one command per
 * line, answering on standard output with lines starting {@code "@@ "}:
 * <ul>
 * <li>{@code wasi SEQ} / {@code stomp SEQ}: broadcast {@link #payload(String) payload(SEQ)} through the guest or
 * the STOMP broker; no answer, so the harness's clock runs from the command to the last client's receipt;</li>
 * <li>{@code heap}: full GC, then {@code @@ heap USED_BYTES};</li>
 * <li>{@code connections}: {@code @@ connections N}, the TCP connections Tomcat holds open.</li>
 * </ul>
 * Arguments are Spring Boot properties ({@code --server.tomcat.max-connections=...}). The process ends when its
 * standard input ends, so it never outlives the harness. Only the main thread reads commands.
 */
public final class ConnectionsServer {

    static final String REPLY = "@@ ";
    static final int PAYLOAD = 64;

    private ConnectionsServer() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.US_ASCII);
        Path modules = Files.createTempDirectory("connections-modules");
        Files.write(modules.resolve("fanout.wasm"), GuestFiles.read("fanout"));
        List<String> properties = new ArrayList<>(List.of("server.port=0", "tinywasm.wasi.modules-dir=" + modules,
                "tinywasm.wasi.watch=false", "spring.main.banner-mode=off", "logging.level.root=warn"));
        ConfigurableApplicationContext app = new SpringApplicationBuilder(FanOutApplication.class)
                .properties(properties.toArray(String[]::new))
                .run(args);
        try {
            TomcatWebServer web = (TomcatWebServer) Objects.requireNonNull(((WebServerApplicationContext) app).getWebServer(), "started");
            AbstractProtocol<?> protocol = (AbstractProtocol<?>) web.getTomcat().getConnector().getProtocolHandler();
            WasiServer server = app.getBean(WasiServer.class);
            SimpMessagingTemplate stomp = app.getBean(SimpMessagingTemplate.class);
            out.println(REPLY + "ready " + web.getPort() + " maxConnections=" + protocol.getMaxConnections()
                    + " acceptCount=" + protocol.getAcceptCount() + " maxThreads=" + protocol.getMaxThreads());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line; (line = in.readLine()) != null; ) {
                String[] cmd = line.trim().split(" ");
                switch (cmd[0]) {
                    case "wasi" -> server.publish("fan-in", payload(cmd[1]));
                    case "stomp" -> stomp.convertAndSend("/topic/fan", payload(cmd[1]));
                    case "heap" -> out.println(REPLY + "heap " + heapAfterGc());
                    case "connections" -> out.println(REPLY + "connections " + protocol.getConnectionCount());
                    case "quit" -> { return; }
                    default -> out.println(REPLY + "error unknown command: " + line);
                }
            }
        } finally {
            app.close();
            System.exit(0);
        }
    }

    /** {@code "#SEQ;"} padded with {@code x} to {@value #PAYLOAD} bytes; the same on both sides. */
    static byte[] payload(String seq) {
        byte[] p = new byte[PAYLOAD];
        java.util.Arrays.fill(p, (byte) 'x');
        byte[] head = ("#" + seq + ";").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, p, 0, head.length);
        return p;
    }

    /** Heap used after full collections, until it stops shrinking (at most five). */
    private static long heapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long now = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (now >= used - (256 << 10)) {
                return Math.min(now, used);
            }
            used = now;
        }
        return used;
    }
}
