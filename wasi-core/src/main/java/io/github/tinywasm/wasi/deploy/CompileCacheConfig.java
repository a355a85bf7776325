package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.Nullable;
import java.nio.file.Path;

/**
 * Bounds of the compile cache ({@link CompileCache}).
 *
 * @param dir folder of the disk tier (shared safely by several processes), or {@code null} for no disk tier
 * @param maxDiskBytes the most bytes the disk tier keeps; past it the least recently used entries are deleted
 * @param memoryEntries the most module versions the memory tier keeps compiled; 0 = no memory tier
 * @param maxMemoryBytes the most bytes of module code (the {@code .wasm} sizes) the memory tier keeps compiled
 */
public record CompileCacheConfig(@Nullable Path dir, long maxDiskBytes, int memoryEntries, long maxMemoryBytes) {

    /** No disk tier; 16 versions or 64 MiB of modules in memory. */
    public static final CompileCacheConfig DEFAULTS = new CompileCacheConfig(null, 256L * 1024 * 1024, 16, 64L * 1024 * 1024);

    public CompileCacheConfig {
        if (maxDiskBytes < 0 || memoryEntries < 0 || maxMemoryBytes < 0) {
            throw new IllegalArgumentException("compile cache bounds must not be negative: maxDiskBytes=" + maxDiskBytes
                    + ", memoryEntries=" + memoryEntries + ", maxMemoryBytes=" + maxMemoryBytes);
        }
    }

    /** These bounds with the disk tier in {@code dir} ({@code null}: none). */
    public CompileCacheConfig withDir(Path dir) {
        return new CompileCacheConfig(dir, maxDiskBytes, memoryEntries, maxMemoryBytes);
    }
}
