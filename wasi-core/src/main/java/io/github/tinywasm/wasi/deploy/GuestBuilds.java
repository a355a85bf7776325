package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds guest modules from their sources while the server runs (development mode): each folder
 * {@code <sources>/<name>/} is module {@code <name>}'s sources; a change there builds it (see {@link BuildRecipe}
 * for how a folder is built), and the result is deployed into the modules folder by atomic rename, where the
 * server's folder watcher swaps the module as for any deployed file. A build that fails leaves the deployed module
 * (and so the serving version) alone; its output is logged and kept in the module's {@link #status(String)}.
 *
 * <pre>{@code
 * GuestBuilds builds = new GuestBuilds(GuestBuildConfig.builder(Path.of("modules"), Path.of("modules")).build());
 * builds.start();                          // builds the modules whose .wasm is missing, then watches the sources
 * WasiServer server = new WasiServer(...); // loads and watches the modules folder
 * server.start();
 * }</pre>
 *
 * <p>{@link #start()} first builds, and waits for, every module whose {@code .wasm} is missing from the modules
 * folder (as tinywasm/wasi compiles them at start), so a server started afterwards loads them. Then a change in a
 * source folder builds that module once it has been quiet for the quiet period (a burst of saves runs one build),
 * unless the sources' contents are the same as at its last build. A module never builds twice at once: a change
 * during its build runs one more build after it. A build past its timeout is killed with its child processes.
 *
 * <p>Threads: {@code wasi-build-watcher} ({@link GuestSourceWatcher}) follows the sources; up to
 * {@code concurrency} daemon threads {@code wasi-build-N} run builds, each build on one thread from start to
 * deploy; each build's programs get an output reader thread (see {@link BuildProcess}). A module's scheduling
 * flags are guarded by its entry's monitor; its status is an immutable record published through a volatile
 * field, so {@link #status(String)} never waits for a build. {@link #start()}, {@link #stop()} and
 * {@link #close()} are serialised by this object's monitor.
 */
public final class GuestBuilds implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GuestBuilds.class);

    /** One module's source folder, its scheduling and its status. */
    private static final class Entry {
        final String name;
        final Path folder;
        /** A build task is queued or running (guarded by this). */
        boolean scheduled;
        /** The sources changed since the running task looked (guarded by this). */
        boolean again;
        /** Build even if the sources did not change (guarded by this). */
        boolean force;
        /** A look at the sources is due that no task has started yet (guarded by this). */
        boolean queued;
        /** Digest of the sources of the last build, or at start; written only by the scheduled task or start. */
        volatile @Nullable String builtDigest;
        volatile GuestBuildStatus status;

        Entry(String name, Path folder, @Nullable String kind) {
            this.name = name;
            this.folder = folder;
            this.status = GuestBuildStatus.initial(name, folder.toString(), kind);
        }
    }

    private final GuestBuildConfig config;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private volatile @Nullable ExecutorService executor;
    private @Nullable GuestSourceWatcher watcher;
    private @Nullable Path workDir;
    private boolean ownsWorkDir;
    private volatile boolean running;
    private boolean closed;

    public GuestBuilds(GuestBuildConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    public GuestBuildConfig config() {
        return config;
    }

    // ---- life cycle -----------------------------------------------------------------------------------------------

    /**
     * Builds every module whose {@code .wasm} is missing from the modules folder and waits for those builds (each
     * within its timeout; a failed one is logged and recorded, and does not stop the others), then watches the
     * sources. Creates the sources and modules folders when they are missing.
     *
     * @throws IllegalStateException a folder cannot be created or read, or this object is closed
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the guest builds are closed");
        }
        if (running) {
            return;
        }
        Path sources = config.sourcesDir();
        createFolder(sources, "guest sources");
        createFolder(config.modulesDir(), "modules");
        try {
            if (config.workDir() != null) {
                workDir = Files.createDirectories(config.workDir());
                ownsWorkDir = false;
            } else if (workDir == null) {
                workDir = Files.createTempDirectory("tinywasm-build-");
                ownsWorkDir = true;
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the work folder of the guest builds: " + e, e);
        }
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(config.concurrency(), config.concurrency(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "wasi-build-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        executor = pool;
        try {
            // Watch before the first look at the folders, so that nothing saved meanwhile is missed.
            watcher = new GuestSourceWatcher(this, sources, config.quietPeriod(), config.pollInterval());
            List<Entry> missing = new ArrayList<>();
            for (Map.Entry<String, Path> folder : GuestSources.moduleFolders(sources).entrySet()) {
                Entry e = entry(folder.getKey(), folder.getValue());
                if (Files.isRegularFile(moduleFile(e.name))) {
                    e.builtDigest = GuestSources.contentDigest(e.folder);
                } else if (e.status.state() != GuestBuildStatus.State.NO_RECIPE) {
                    missing.add(e);
                }
            }
            log.info("Building guest modules on change from {} into {}: {}", sources.toAbsolutePath(),
                    config.modulesDir().toAbsolutePath(), describe());
            if (!missing.isEmpty()) {
                buildMissing(missing);
            }
            watcher.start();
            running = true;
        } catch (RuntimeException e) {
            if (watcher != null) {
                watcher.close();
                watcher = null;
            }
            pool.shutdownNow();
            throw e;
        }
    }

    private void buildMissing(List<Entry> missing) {
        long started = System.nanoTime();
        log.info("Building {} guest module(s) whose .wasm is missing before the server starts: {}", missing.size(),
                missing.stream().map(e -> e.name).collect(Collectors.joining(", ")));
        for (Entry e : missing) {
            schedule(e, true);
        }
        for (Entry e : missing) {
            try {
                awaitIdle(e);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        long failed = missing.stream().filter(e -> e.status.failed()).count();
        log.info("Built {} guest module(s) in {}{}", missing.size() - failed, BuildProcess.seconds(
                Duration.ofNanos(System.nanoTime() - started)), failed > 0 ? "; " + failed + " failed (see above)" : "");
    }

    /** Waits until the module has no build queued or running. */
    private static void awaitIdle(Entry e) throws InterruptedException {
        synchronized (e) {
            while (e.scheduled) {
                e.wait();
            }
        }
    }

    /** Stops watching and kills running builds (their modules keep their deployed version). May start again. */
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
        ExecutorService pool = Objects.requireNonNull(executor, "executor"); // set by start() before running
        pool.shutdownNow(); // interrupts the builds, which kill their processes
        try {
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("Guest builds still running 30 s after they were told to stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Entry e : entries.values()) {
            synchronized (e) {
                e.scheduled = false;
                e.again = false;
                e.queued = false;
                e.notifyAll();
            }
        }
    }

    public boolean isRunning() {
        return running;
    }

    /** {@link #stop()}, and deletes the temporary work folder. Cannot be started again. */
    @Override
    public synchronized void close() {
        stop();
        closed = true;
        if (ownsWorkDir && workDir != null) {
            deleteTree(workDir);
            workDir = null;
        }
    }

    // ---- status ---------------------------------------------------------------------------------------------------

    /** The build status of module {@code name}, if it has a source folder. */
    public Optional<GuestBuildStatus> status(String name) {
        Entry e = entries.get(name);
        return e == null ? Optional.empty() : Optional.of(snapshot(e));
    }

    /** The build status of every module with a source folder, by name. */
    public List<GuestBuildStatus> statuses() {
        return entries.values().stream().map(GuestBuilds::snapshot).sorted(Comparator.comparing(GuestBuildStatus::module)).toList();
    }

    private static GuestBuildStatus snapshot(Entry e) {
        boolean queued;
        synchronized (e) { // held only to flip flags, never during a build
            queued = e.queued;
        }
        return e.status.queued(queued);
    }

    /**
     * Builds module {@code name} now, even if its sources did not change, and waits for the build (or for the
     * one running, and then this one).
     *
     * @return the status after the build
     * @throws IllegalArgumentException the module has no source folder
     * @throws IllegalStateException the builds are not running
     */
    public GuestBuildStatus build(String name) throws InterruptedException {
        if (!running) {
            throw new IllegalStateException("the guest builds are not running");
        }
        Path folder = config.sourcesDir().resolve(name);
        if (!GuestSources.isModuleFolderName(name) || !Files.isDirectory(folder)) {
            throw new IllegalArgumentException("module '" + name + "' has no source folder " + folder.toAbsolutePath());
        }
        Entry e = entry(name, folder);
        schedule(e, true);
        awaitIdle(e);
        return e.status;
    }

    // ---- changes (from the watcher) -------------------------------------------------------------------------------

    /** The sources of module {@code name} may have changed (a new folder, a saved file, a rescan). */
    void changed(String name, Path folder) {
        if (running) {
            schedule(entry(name, folder), false);
        }
    }

    /** Module {@code name}'s source folder is gone: forget it. Its deployed module stays. */
    void removed(String name) {
        if (entries.remove(name) != null) {
            log.info("[{}] its source folder is gone: no longer built (its deployed module stays)", name);
        }
    }

    private Entry entry(String name, Path folder) {
        return entries.computeIfAbsent(name,
                n -> new Entry(n, folder, BuildRecipe.detect(n, folder, config).map(BuildRecipe::kind).orElse(null)));
    }

    private void schedule(Entry e, boolean force) {
        synchronized (e) {
            e.force |= force;
            e.queued = true;
            if (e.scheduled) {
                e.again = true;
                return;
            }
            e.scheduled = true;
        }
        try {
            Objects.requireNonNull(executor, "executor").execute(() -> serve(e)); // set by start() before running
        } catch (java.util.concurrent.RejectedExecutionException rejected) {
            synchronized (e) {
                e.scheduled = false;
                e.queued = false;
                e.notifyAll();
            }
        }
    }

    /** The module's build task: builds while its sources keep changing, then ends. */
    private void serve(Entry e) {
        try {
            while (true) {
                boolean force;
                synchronized (e) {
                    force = e.force;
                    e.force = false;
                    e.again = false;
                    e.queued = false;
                }
                String digest = GuestSources.contentDigest(e.folder);
                if (force || !digest.equals(e.builtDigest)) {
                    e.builtDigest = digest;
                    runBuild(e);
                }
                synchronized (e) {
                    if (!e.again || !running) {
                        e.scheduled = false;
                        e.queued = false;
                        e.notifyAll();
                        return;
                    }
                }
            }
        } catch (InterruptedException stopping) {
            synchronized (e) {
                e.scheduled = false;
                e.queued = false;
                e.notifyAll();
            }
        } catch (RuntimeException | Error failure) {
            log.error("[{}] the build of {} failed unexpectedly", e.name, e.folder, failure);
            synchronized (e) {
                e.scheduled = false;
                e.queued = false;
                e.notifyAll();
            }
        }
    }

    private void runBuild(Entry e) throws InterruptedException {
        if (!Files.isDirectory(e.folder)) {
            return; // deleted: the watcher forgets the module
        }
        Optional<BuildRecipe> recipe = BuildRecipe.detect(e.name, e.folder, config);
        if (recipe.isEmpty()) {
            if (e.status.state() != GuestBuildStatus.State.NO_RECIPE) {
                log.info("[{}] nothing in {} says how to build it (no Cargo.toml, C guest, asconfig.json, build.sh or"
                        + " configured command): not built", e.name, e.folder);
            }
            e.status = e.status.noRecipe();
            return;
        }
        GuestBuildStatus building = e.status.building(recipe.get().kind(), Instant.now());
        e.status = building;
        e.status = new GuestBuild(e.name, e.folder, recipe.get(), config,
                Objects.requireNonNull(workDir, "workDir")).run(building); // set by start(), cleared only once stopped
        if (Thread.interrupted()) {
            throw new InterruptedException("the guest builds are stopping");
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private Path moduleFile(String name) {
        return config.modulesDir().resolve(name + ModuleFiles.EXTENSION);
    }

    private String describe() {
        if (entries.isEmpty()) {
            return "no module source folders yet";
        }
        return entries.values().stream().sorted(Comparator.comparing(e -> e.name))
                .map(e -> e.name + " (" + (e.status.kind() != null ? e.status.kind() : "nothing to build") + ")")
                .collect(Collectors.joining(", "));
    }

    private static void createFolder(Path dir, String what) {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir);
            log.info("Created the empty {} folder {}", what, dir.toAbsolutePath());
        } catch (IOException e) {
            throw new IllegalStateException("the " + what + " folder " + dir.toAbsolutePath()
                    + " does not exist and cannot be created: " + e, e);
        }
    }

    private static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            log.debug("cannot delete the guest builds' work folder {}: {}", dir, e.toString());
        }
    }
}
