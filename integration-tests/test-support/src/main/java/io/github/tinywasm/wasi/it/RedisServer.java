package io.github.tinywasm.wasi.it;

import org.jspecify.annotations.Nullable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real {@code redis-server} (Debian's package) for a test class, on a free loopback port, without persistence
 * ({@code --save '' --appendonly no}): its data lives as long as its process. Register it with
 * {@code @RegisterExtension static RedisServer redis = new RedisServer();}. {@link #stop()} then {@link #start()} is
 * an outage, and a restart that lost the data: the new process listens on the same port.
 *
 * <p>Stopped by its process handle (never by name), after each test class and when the JVM exits.
 */
public final class RedisServer implements BeforeAllCallback, AfterAllCallback {

    private static final Path BINARY = Path.of("/usr/bin/redis-server");

    private int port;
    private @Nullable Process process;
    private @Nullable Path log;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    /** The port it listens on (the same across restarts). */
    public int port() {
        return port;
    }

    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Starts the server (on a free port the first time, on the same one afterwards) and waits until it answers. */
    public synchronized void start() throws IOException, InterruptedException {
        if (running()) {
            return;
        }
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("redis-server is required: run scripts/setup.sh (Debian's redis-server)");
        }
        if (port == 0) {
            try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = free.getLocalPort();
            }
            log = Files.createTempFile("redis-" + port + "-", ".log");
        }
        Path log = java.util.Objects.requireNonNull(this.log, "set with the port");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            process = new ProcessBuilder(BINARY.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--protected-mode", "no")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Process started = process;
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting (a test run stopped mid-test): nothing would stop this server later
                started.destroyForcibly();
                process = null;
                throw shuttingDown;
            }
            while (System.nanoTime() < deadline && started.isAlive()) {
                if (ping()) {
                    return;
                }
                Thread.sleep(20);
            }
            if (System.nanoTime() >= deadline) {
                started.destroyForcibly();
                throw new IllegalStateException("redis-server did not answer on port " + port + ": " + Files.readString(log));
            }
            // it exited (the port was still held by the previous process): try again until the deadline
            Thread.sleep(100);
        }
    }

    /** Stops the server (its data is gone) and waits until its process ended. */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        process = null;
    }

    /** Whether the server answers PING now. */
    public boolean ping() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] reply = new byte[7];
            int n = in.readNBytes(reply, 0, 7);
            return n == 7 && new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }
}
