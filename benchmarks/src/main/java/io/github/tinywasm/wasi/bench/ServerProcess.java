package io.github.tinywasm.wasi.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The harness's handle on a {@link ConnectionsServer} child JVM: started with {@code java -cp <this classpath>},
 * commanded through its standard input, answers read from its standard output by one daemon thread (other
 * output lines are echoed to standard error, and the last ones kept for failure messages). {@link #close()}
 * always ends the process, forcibly if it does not quit within 10 seconds; a shutdown hook does the same if the
 * harness is interrupted. Commands are sent by one thread at a time (the benchmark's).
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final Deque<String> lastOutput = new ArrayDeque<>();
    private final Thread hook;
    final int port;
    final String settings;

    private ServerProcess(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        process = builder.start();
        hook = new Thread(process::destroyForcibly, "connections-server-killer");
        Runtime.getRuntime().addShutdownHook(hook);
        commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII);
        Thread reader = new Thread(this::readOutput, "connections-server-output");
        reader.setDaemon(true);
        reader.start();
        String ready = reply("ready", 120);
        String[] parts = ready.split(" ", 2);
        port = Integer.parseInt(parts[0]);
        settings = parts.length > 1 ? parts[1] : "";
    }

    /** Starts the server with a fixed heap and the given Spring Boot properties. */
    static ServerProcess start(String maxHeap, List<String> properties) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + maxHeap);
        command.add("-Xms" + maxHeap);
        command.add("-cp");
        command.add(classpath());
        command.add(ConnectionsServer.class.getName());
        for (String p : properties) {
            command.add("--" + p);
        }
        return new ServerProcess(command);
    }

    void send(String command) {
        try {
            commands.write(command);
            commands.write('\n');
            commands.flush();
        } catch (IOException e) {
            throw new IllegalStateException("server process gone (exit " + exitCode() + "): " + lastOutput(), e);
        }
    }

    /** Sends {@code command} and returns the value of its answer {@code "@@ <command> VALUE"}. */
    String ask(String command, int timeoutSeconds) throws InterruptedException {
        send(command);
        return reply(command, timeoutSeconds);
    }

    private String reply(String name, int timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            String line = replies.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new IllegalStateException("server did not answer '" + name + "' within " + timeoutSeconds
                        + " s (" + (process.isAlive() ? "still running" : "exit " + exitCode()) + "); last output: "
                        + lastOutput());
            }
            if (line.equals("EOF")) {
                throw new IllegalStateException("server process ended (exit " + exitCode() + ") before answering '"
                        + name + "'; last output: " + lastOutput());
            }
            if (line.startsWith(name + " ") || line.equals(name)) {
                return line.substring(name.length()).trim();
            }
            if (line.startsWith("error")) {
                throw new IllegalStateException("server: " + line);
            }
        }
    }

    private void readOutput() {
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(ConnectionsServer.REPLY)) {
                    replies.add(line.substring(ConnectionsServer.REPLY.length()));
                } else {
                    System.err.println("[server] " + line);
                    synchronized (lastOutput) {
                        lastOutput.addLast(line);
                        if (lastOutput.size() > 20) {
                            lastOutput.removeFirst();
                        }
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended; EOF below tells whoever waits
        }
        replies.add("EOF");
    }

    private String lastOutput() {
        synchronized (lastOutput) {
            return lastOutput.isEmpty() ? "(none)" : String.join(" | ", lastOutput);
        }
    }

    private String exitCode() {
        return process.isAlive() ? "none yet" : String.valueOf(process.exitValue());
    }

    @Override
    public void close() throws InterruptedException {
        try {
            send("quit");
        } catch (IllegalStateException ignored) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // shutting down: the hook runs anyway
        }
    }

    /**
     * This JVM's application classpath. Under {@code mvn exec:java} the benchmark runs in Maven's JVM, whose
     * {@code java.class.path} is Maven's own: the project's classpath is the URLs of the class loader that
     * loaded this class.
     */
    static String classpath() {
        Set<String> entries = new LinkedHashSet<>();
        // the harness's classpath, for a child JVM: only the loader of this class (under Maven its parents are
        // Maven's own realms)
        if (ServerProcess.class.getClassLoader() instanceof URLClassLoader u) {
            for (URL url : u.getURLs()) {
                if ("file".equals(url.getProtocol())) {
                    entries.add(new File(java.net.URI.create(url.toString())).getPath());
                }
            }
        }
        if (entries.isEmpty()) {
            return System.getProperty("java.class.path");
        }
        return String.join(File.pathSeparator, entries);
    }
}
