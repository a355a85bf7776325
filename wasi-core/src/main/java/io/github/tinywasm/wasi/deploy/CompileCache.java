package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.Nullable;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Compiled module versions kept so that a redeploy of known bytes, a rollback and a restart skip the compiler. Two
 * tiers: in memory, the compiled code itself (so a hit skips even the definition of its classes), bounded by count and
 * by the modules' sizes, least recently used evicted; on disk ({@link DiskCompileCache}), the compiler's output, shared
 * by restarts and by processes. Keys are a module's SHA-256 plus the engine's options ({@link #key}).
 *
 * <p>Thread-safe: the memory tier is guarded by this object's monitor; counters are {@link LongAdder}s. Two loads of the
 * same bytes at once may both compile (the second result replaces the first): correct, only slower.
 *
 * @param <V> the compiled code (the engine's, opaque here)
 */
public final class CompileCache<V> {

    /**
     * What the cache did so far.
     *
     * @param compilations times the compiler ran (neither tier had the version)
     * @param memoryHits versions found compiled in memory
     * @param diskHits versions whose compiled code was read from the disk tier
     * @param diskWrites compiled versions written to the disk tier
     * @param corruptEntries disk entries found unreadable or damaged (ignored, deleted, rewritten)
     * @param evictions entries evicted from either tier to stay within its bounds
     */
    public record Stats(long compilations, long memoryHits, long diskHits, long diskWrites, long corruptEntries,
            long evictions) {}

    private record Held<V>(V value, long weight) {}

    private final CompileCacheConfig config;
    private final @Nullable DiskCompileCache disk;
    /** Guarded by {@code this}; access order, eldest first. */
    private final LinkedHashMap<String, Held<V>> memory = new LinkedHashMap<>(16, 0.75f, true);
    private long memoryWeight;
    private final LongAdder compilations = new LongAdder();
    private final LongAdder memoryHits = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    public CompileCache(CompileCacheConfig config) {
        this.config = config;
        this.disk = config.dir() != null ? new DiskCompileCache(config.dir(), config.maxDiskBytes()) : null;
    }

    /** The key of a version: its SHA-256 and the engine options it was compiled with. */
    public static String key(String sha256, String options) {
        return sha256 + "/" + options;
    }

    /** The compiled version held in memory under {@code key}, or {@code null}. */
    public synchronized @Nullable V get(String key) {
        Held<V> held = memory.get(key);
        if (held == null) {
            return null;
        }
        memoryHits.increment();
        return held.value();
    }

    /** Keeps {@code value} in memory, evicting the least recently used versions past the bounds. */
    public synchronized void put(String key, V value, long weight) {
        if (config.memoryEntries() == 0 || weight > config.maxMemoryBytes()) {
            return;
        }
        Held<V> was = memory.put(key, new Held<>(value, weight));
        memoryWeight += weight - (was != null ? was.weight() : 0);
        for (Iterator<Map.Entry<String, Held<V>>> it = memory.entrySet().iterator(); it.hasNext()
                && (memory.size() > config.memoryEntries() || memoryWeight > config.maxMemoryBytes()); ) {
            Map.Entry<String, Held<V>> eldest = it.next();
            if (eldest.getKey().equals(key)) {
                continue;
            }
            it.remove();
            memoryWeight -= eldest.getValue().weight();
            evictions.increment();
        }
    }

    /** The disk tier, or {@code null} when there is none. */
    public @Nullable DiskCompileCache disk() {
        return disk;
    }

    /** Records that the compiler ran (no tier had the version). */
    public void compiled() {
        compilations.increment();
    }

    /** Versions held in memory now. */
    public synchronized int memorySize() {
        return memory.size();
    }

    public Stats stats() {
        return new Stats(compilations.sum(), memoryHits.sum(), disk != null ? disk.hits() : 0,
                disk != null ? disk.writes() : 0, disk != null ? disk.corrupt() : 0,
                evictions.sum() + (disk != null ? disk.evictions() : 0));
    }
}
