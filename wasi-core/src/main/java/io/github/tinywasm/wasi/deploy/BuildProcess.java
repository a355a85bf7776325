package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Runs the programs of one build of one module, under one deadline, into one {@link OutputTail}.
 *
 * <p>Each program runs in the module's folder with its input closed; its output (standard output and error
 * together) goes to the tail, preceded by a {@code $ command} line. A program that runs past the build's deadline
 * is killed with all its descendants (a compiler driver's own children too), and so is one whose build thread
 * is interrupted (the builds are stopping).
 *
 * <p>Threads: used by one build thread. Each program gets a daemon thread, {@code wasi-build-output-<module>},
 * that copies its output to the tail (two, the second {@code -err}, when standard output is parsed); they end
 * when the program and its descendants have closed the output.
 */
final class BuildProcess {

    /** How long the output of a program that ended is still read, in case a child it left behind keeps it open. */
    private static final long OUTPUT_GRACE_MILLIS = 5_000;
    /** The longest line of standard output that is parsed rather than kept as output. */
    private static final int MAX_LINE = 1 << 20;

    private final String module;
    private final Path dir;
    private final OutputTail tail;
    private final long deadlineNanos;
    private final Duration timeout;

    BuildProcess(String module, Path dir, OutputTail tail, Duration timeout) {
        this.module = module;
        this.dir = dir;
        this.tail = tail;
        this.timeout = timeout;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
    }

    String module() {
        return module;
    }

    Path dir() {
        return dir;
    }

    OutputTail tail() {
        return tail;
    }

    /** Runs {@code command} in the module's folder; fails unless it exits with 0. */
    void run(List<String> command, Map<String, String> env) throws BuildFailure, InterruptedException {
        run(command, env, null);
    }

    /**
     * Runs {@code command}; when {@code stdoutLines} is given, each line of standard output that starts with
     * <code>{</code> (a tool's machine-readable messages) goes to it instead of the tail.
     *
     * @throws BuildFailure the program is not there, exited with another code than 0 (exit 127 of a shell: a
     *     command it could not find), or ran past the deadline
     */
    void run(List<String> command, Map<String, String> env, @Nullable Consumer<String> stdoutLines)
            throws BuildFailure, InterruptedException {
        tail.append("$ " + String.join(" ", command) + "\n");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().putAll(env);
        builder.redirectErrorStream(stdoutLines == null);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw BuildFailure.toolchainMissing("cannot run " + command.get(0) + ": " + e.getMessage());
        }
        List<Thread> readers = new ArrayList<>();
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // the program does not read its input anyway
        }
        if (stdoutLines == null) {
            readers.add(reader(process.getInputStream(), null, ""));
        } else {
            readers.add(reader(process.getInputStream(), stdoutLines, ""));
            readers.add(reader(process.getErrorStream(), null, "-err"));
        }
        boolean ended;
        try {
            long left = deadlineNanos - System.nanoTime();
            ended = left > 0 && process.waitFor(left, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            kill(process);
            join(readers);
            tail.append("[stopped: the builds are shutting down]\n");
            throw e;
        }
        if (!ended) {
            kill(process);
            join(readers);
            tail.append("[killed after " + seconds(timeout) + ": the build's timeout]\n");
            throw new BuildFailure(GuestBuildStatus.State.TIMED_OUT, "ran past its timeout of " + seconds(timeout) + "; "
                    + Path.of(command.get(0)).getFileName() + " and its child processes were killed");
        }
        join(readers);
        int exit = process.exitValue();
        if (exit == 127 && isShell(command.get(0))) {
            throw BuildFailure.toolchainMissing("a command of the build was not found (exit 127): " + lastLine());
        }
        if (exit != 0) {
            throw BuildFailure.failed(Path.of(command.get(0)).getFileName() + " exited with " + exit);
        }
    }

    private String lastLine() {
        String[] lines = tail.text().strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    private static boolean isShell(String program) {
        String name = Path.of(program).getFileName().toString();
        return name.equals("sh") || name.equals("bash") || name.equals("dash") || name.equals("build.sh");
    }

    /** {@code 45 ms}, {@code 2 s}, {@code 2.3 s}: a duration for a log line. */
    static String seconds(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) {
            return ms + " ms";
        }
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    private Thread reader(InputStream in, @Nullable Consumer<String> lines, String suffix) {
        Thread t = new Thread(() -> copy(in, lines), "wasi-build-output-" + module + suffix);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void copy(InputStream in, @Nullable Consumer<String> lines) {
        byte[] buf = new byte[8192];
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (lines == null) {
                    tail.append(buf, 0, n);
                    continue;
                }
                int from = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        line.write(buf, from, i + 1 - from);
                        from = i + 1;
                        route(line, lines);
                    }
                }
                line.write(buf, from, n - from);
                if (line.size() > MAX_LINE) {
                    route(line, lines);
                }
            }
            if (lines != null && line.size() > 0) { // without lines, nothing went into line
                route(line, lines);
            }
        } catch (IOException e) {
            tail.append("[output could not be read: " + e.getMessage() + "]\n");
        }
    }

    private void route(java.io.ByteArrayOutputStream line, Consumer<String> lines) {
        byte[] bytes = line.toByteArray();
        line.reset();
        if (bytes.length > 0 && bytes[0] == '{' && bytes.length <= MAX_LINE) {
            lines.accept(new String(bytes, StandardCharsets.UTF_8).strip());
        } else {
            tail.append(bytes, 0, bytes.length);
        }
    }

    private void join(List<Thread> readers) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OUTPUT_GRACE_MILLIS);
        for (Thread t : readers) {
            long left = until - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /**
     * Kills the program and every process under it. Descendants are listed before their parent dies (an orphan
     * no longer shows as one), the program first so that it starts no more of them.
     */
    static void kill(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        for (ProcessHandle p : descendants) {
            List<ProcessHandle> below = p.descendants().toList();
            p.destroyForcibly();
            below.forEach(ProcessHandle::destroyForcibly);
        }
        try {
            process.onExit().get(OUTPUT_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // killed with SIGKILL: it ends; nothing more to do here
        }
    }
}
