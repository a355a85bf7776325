package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the guest sources folder: each folder in it is a module's sources, watched with everything under it
 * (but what {@link GuestSources} leaves out). A change in a module's folder is reported to {@link GuestBuilds}
 * once the folder has been quiet for the quiet period, so a burst of saves (an IDE writing several files, an
 * editor's write-and-rename) is one change. A new folder is a new module; a folder that disappears is
 * forgotten. Files directly in the sources folder are not sources (the sources folder may be the modules
 * folder, whose {@code .wasm} files the builds write).
 *
 * <p>The JDK's {@link WatchService} reports changes, one registration per folder (folders created later are
 * registered when they appear); a rescan every poll interval compares each folder's file sizes and times and
 * catches what it misses (overflow, file systems without notifications).
 *
 * <p>Threads: one daemon thread, {@code wasi-build-watcher}, owns all state here. It only reports changes;
 * builds run on the builds' own threads.
 */
final class GuestSourceWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GuestSourceWatcher.class);

    private final GuestBuilds builds;
    private final Path sources;
    private final long quietNanos;
    private final long pollNanos;
    private final @Nullable WatchService watchService;
    private final Map<WatchKey, Path> keys = new HashMap<>();
    /** Module folder name to its fingerprint at the last look. */
    private final Map<String, String> known = new TreeMap<>();
    /** Module folder name to when its last change was seen. */
    private final Map<String, Long> pending = new HashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    /** Registers for changes now, so that nothing saved after this call is missed. */
    GuestSourceWatcher(GuestBuilds builds, Path sources, Duration quietPeriod, Duration pollInterval) {
        this.builds = builds;
        this.sources = sources;
        this.quietNanos = quietPeriod.toNanos();
        this.pollNanos = pollInterval.toNanos();
        WatchService ws;
        try {
            ws = sources.getFileSystem().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("Cannot watch the guest sources in {} ({}); rescanning them every {} ms instead", sources, e.toString(),
                    pollInterval.toMillis());
            ws = null;
        }
        this.watchService = ws;
        register(sources);
        for (Map.Entry<String, Path> folder : GuestSources.moduleFolders(sources).entrySet()) {
            registerTree(folder.getValue());
            known.put(folder.getKey(), GuestSources.fingerprint(folder.getValue()));
        }
        this.thread = new Thread(this::run, "wasi-build-watcher");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void register(Path dir) {
        if (watchService == null) {
            return;
        }
        try {
            keys.put(dir.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE), dir);
        } catch (IOException e) {
            log.debug("cannot watch {}: {} (the rescan covers it)", dir, e.toString());
        }
    }

    private void registerTree(Path folder) {
        for (Path dir : GuestSources.directories(folder)) {
            register(dir);
        }
    }

    private void run() {
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(quietNanos / 3, pollNanos));
        long nextRescan = System.nanoTime() + pollNanos;
        while (!closed) {
            try {
                WatchKey key = watchService != null ? watchService.poll(tick, TimeUnit.NANOSECONDS) : sleep(tick);
                if (key != null) {
                    Path dir = keys.get(key);
                    for (WatchEvent<?> event : key.pollEvents()) {
                        if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                            nextRescan = 0;
                        } else if (dir != null && event.context() instanceof Path p) {
                            seen(dir.resolve(p), event.kind() == StandardWatchEventKinds.ENTRY_CREATE);
                        }
                    }
                    if (!key.reset()) {
                        keys.remove(key);
                    }
                }
                long now = System.nanoTime();
                if (now - nextRescan >= 0) {
                    rescan(now);
                    nextRescan = now + pollNanos;
                }
                settle(System.nanoTime());
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                log.error("Watcher of the guest sources in {} failed on one round; it keeps watching", sources, e);
            }
        }
    }

    private static @Nullable WatchKey sleep(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
        return null;
    }

    /** A file-system event on {@code path}: marks its module changed, unless the path is not a source. */
    private void seen(Path path, boolean created) {
        Path relative = sources.relativize(path);
        String name = relative.getName(0).toString();
        if (relative.getNameCount() == 1) {
            // directly in the sources folder: a module folder that appeared or went, or a file (not a source)
            if (known.containsKey(name) || (Files.isDirectory(path) && GuestSources.isModuleFolderName(name))) {
                if (created && Files.isDirectory(path)) {
                    registerTree(path);
                }
                pending.put(name, System.nanoTime());
            }
            return;
        }
        if (!GuestSources.isModuleFolderName(name) || GuestSources.ignored(relative.subpath(1, relative.getNameCount()))) {
            return;
        }
        if (created && Files.isDirectory(path)) {
            registerTree(path); // and what was created in it before it was registered is seen by the build's digest
        }
        pending.put(name, System.nanoTime());
    }

    /** Compares every module folder with the last look: new, gone, or a file added, removed or written. */
    private void rescan(long now) {
        TreeMap<String, Path> folders;
        try {
            folders = GuestSources.moduleFolders(sources);
        } catch (IllegalStateException e) {
            log.warn("Cannot rescan the guest sources: {}", e.getMessage());
            return;
        }
        for (Map.Entry<String, Path> folder : folders.entrySet()) {
            String name = folder.getKey();
            if (pending.containsKey(name)) {
                continue;
            }
            if (!known.containsKey(name)) {
                registerTree(folder.getValue());
                pending.put(name, now);
            } else if (!GuestSources.fingerprint(folder.getValue()).equals(known.get(name))) {
                pending.put(name, now);
            }
        }
        for (String name : known.keySet()) {
            if (!folders.containsKey(name)) {
                pending.putIfAbsent(name, now);
            }
        }
    }

    /** Reports each module whose folder has been quiet for the quiet period. */
    private void settle(long now) {
        for (Iterator<Map.Entry<String, Long>> it = pending.entrySet().iterator(); it.hasNext() && !closed; ) {
            Map.Entry<String, Long> p = it.next();
            if (now - p.getValue() < quietNanos) {
                continue;
            }
            it.remove();
            String name = p.getKey();
            Path folder = sources.resolve(name);
            if (Files.isDirectory(folder)) {
                known.put(name, GuestSources.fingerprint(folder));
                builds.changed(name, folder);
            } else if (known.remove(name) != null) {
                builds.removed(name);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                log.debug("closing the watch service of {}: {}", sources, e.toString());
            }
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
