package io.github.tinywasm.wasi.deploy;

import io.github.tinywasm.wasi.WasiModuleException;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a server in step with its modules folder: a {@code *.wasm} file that appears is loaded,
 * one that changes is swapped, one that disappears is unloaded.
 *
 * <p>A changed file is loaded only after its size and modification time have stayed the same for the quiet
 * period, so a file still being written is not loaded half-way; an atomic rename into the folder is seen as
 * one change. A file whose bytes did not change (a {@code touch}) is not reloaded. The JDK's
 * {@link WatchService} reports changes; a rescan every poll interval catches what it misses (overflow,
 * file systems without notifications).
 *
 * <p>Threads: one daemon thread, {@code wasi-watcher}, owns all state here; loads run on it, one at a time.
 */
public final class ModuleDirectoryWatcher implements AutoCloseable {

    /** What the watcher does to the server when a file settles. */
    public interface Target {
        /** Loads or swaps the module of {@code file}, unless it already serves the same bytes. */
        void load(Path file);

        /** Unloads module {@code name}. */
        void unload(String name);
    }

    private static final Logger log = LoggerFactory.getLogger(ModuleDirectoryWatcher.class);

    /** Size and modification time of a file, or {@link #MISSING}. */
    private record Stat(long size, long modified) {}

    private static final Stat MISSING = new Stat(-1, -1);

    private static final class Pending {
        Stat stat;
        long since;

        Pending(Stat stat, long since) {
            this.stat = stat;
            this.since = since;
        }
    }

    private final Target server;
    private final Path dir;
    private final long quietNanos;
    private final long pollNanos;
    private final @Nullable WatchService watchService;
    private final Map<String, Stat> known = new HashMap<>();
    private final Map<String, Pending> pending = new HashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    /** Registers for changes now, so that nothing written after this call is missed. */
    public ModuleDirectoryWatcher(Target server, Path dir, Duration quietPeriod, Duration pollInterval) {
        this.server = server;
        this.dir = dir;
        this.quietNanos = quietPeriod.toNanos();
        this.pollNanos = pollInterval.toNanos();
        WatchService ws;
        try {
            ws = dir.getFileSystem().newWatchService();
            dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("Cannot watch {} for changes ({}); polling it every {} ms instead", dir, e.toString(),
                    pollInterval.toMillis());
            ws = null;
        }
        this.watchService = ws;
        for (Path f : ModuleFiles.list(dir)) {
            known.put(f.getFileName().toString(), stat(f));
        }
        this.thread = new Thread(this::run, "wasi-watcher");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(quietNanos / 3, pollNanos));
        long nextRescan = System.nanoTime() + pollNanos;
        while (!closed) {
            try {
                WatchKey key = watchService != null
                        ? watchService.poll(tick, TimeUnit.NANOSECONDS)
                        : sleep(tick);
                if (key != null) {
                    for (WatchEvent<?> event : key.pollEvents()) {
                        if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                            nextRescan = 0;
                        } else if (event.context() instanceof Path p && isModule(p.getFileName().toString())) {
                            changed(p.getFileName().toString(), System.nanoTime());
                        }
                    }
                    key.reset();
                }
                long now = System.nanoTime();
                if (now - nextRescan >= 0) {
                    rescan(now);
                    nextRescan = now + pollNanos;
                }
                settle(System.nanoTime());
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (Throwable e) {
                // Whatever one round throws (an OutOfMemoryError included), the folder must stay watched.
                log.error("Watcher of {} failed on one round; it keeps watching", dir, e);
            }
        }
    }

    private static @Nullable WatchKey sleep(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
        return null;
    }

    private void changed(String file, long now) {
        Pending p = pending.get(file);
        Stat s = stat(dir.resolve(file));
        if (p == null) {
            pending.put(file, new Pending(s, now));
        } else if (!p.stat.equals(s)) {
            p.stat = s;
            p.since = now;
        }
    }

    private void rescan(long now) {
        Set<String> present = new HashSet<>();
        try {
            for (Path f : ModuleFiles.list(dir)) {
                String file = f.getFileName().toString();
                present.add(file);
                if (!pending.containsKey(file) && !stat(f).equals(known.get(file))) {
                    changed(file, now);
                }
            }
        } catch (IllegalStateException e) {
            log.warn("Cannot rescan {}: {}", dir, e.getMessage());
            return;
        }
        for (String file : known.keySet()) {
            if (!present.contains(file) && !pending.containsKey(file)) {
                changed(file, now);
            }
        }
    }

    /** Acts on each pending file whose size and time have not changed for the quiet period. */
    private void settle(long now) {
        for (Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator(); it.hasNext() && !closed; ) {
            Map.Entry<String, Pending> e = it.next();
            String file = e.getKey();
            Pending p = e.getValue();
            Stat s = stat(dir.resolve(file));
            if (!s.equals(p.stat)) {
                p.stat = s;
                p.since = now;
                continue;
            }
            if (now - p.since < quietNanos) {
                continue;
            }
            it.remove();
            apply(file, s);
        }
    }

    private void apply(String file, Stat s) {
        String name = ModuleFiles.moduleName(file);
        if (s == MISSING) {
            if (known.remove(file) != null) {
                log.info("[{}] {} was removed: unloading", name, file);
                server.unload(name);
            }
            return;
        }
        known.put(file, s);
        try {
            server.load(dir.resolve(file));
        } catch (WasiModuleException e) {
            // the slot has recorded and logged it; the previous version keeps serving
        } catch (Throwable e) {
            log.error("[{}] cannot load {}: {}", name, file, e.toString(), e);
        }
    }

    private static boolean isModule(String file) {
        return ModuleFiles.isWasm(file) && !file.startsWith(".");
    }

    private static Stat stat(Path f) {
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return a.isRegularFile() ? new Stat(a.size(), a.lastModifiedTime().toMillis()) : MISSING;
        } catch (IOException e) {
            return MISSING;
        }
    }

    /** Stops watching; waits up to 5 s for a load in progress. See {@link #close(Duration)}. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /**
     * Stops watching: interrupts the watcher thread (which ends a guest call it runs, such as a module's start-up)
     * and waits up to {@code wait} for it to end. A load that outlasts the wait completes later on its own.
     */
    public void close(Duration wait) {
        closed = true;
        thread.interrupt();
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                log.debug("closing the watch service of {}: {}", dir, e.toString());
            }
        }
        try {
            thread.join(Math.max(1, wait.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
