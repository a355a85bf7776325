package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.Nullable;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The versions a module slot can return to: the serving one and the one it replaced, each with its compiled code, so
 * that a rollback swaps back without reading a file or running the compiler.
 *
 * <p>Only the previous version is kept: a rollback makes the version rolled back from the previous one (a second
 * rollback rolls forward again). A version identical to the serving one (same SHA-256) replaces it without becoming
 * the previous one, so a forced reload of the same bytes does not lose the way back.
 *
 * <p>Thread-safe: the slot changes it under its swap lock; snapshots ({@link #serving()}, {@link #previous()}) may be
 * read from any thread.
 *
 * @param <C> the compiled code of a version (the engine's, opaque here)
 */
public final class VersionHistory<C> {

    /**
     * One version of a module.
     *
     * @param sha256 hex SHA-256 of its bytes
     * @param size its size in bytes
     * @param file the file it came from, or {@code null} if it was loaded from bytes
     * @param compiled its compiled code, reused by a rollback
     */
    public record Entry<C>(String sha256, long size, @Nullable Path file, C compiled) {
        public Entry {
            Objects.requireNonNull(sha256, "sha256");
            Objects.requireNonNull(compiled, "compiled");
        }
    }

    private volatile @Nullable Entry<C> serving;
    private volatile @Nullable Entry<C> previous;

    /** Records that {@code entry} now serves; what served before becomes the previous version unless it is the same. */
    public synchronized void committed(Entry<C> entry) {
        Entry<C> was = serving;
        if (was != null && !was.sha256().equals(entry.sha256())) {
            previous = was;
        }
        serving = entry;
    }

    /** Forgets every version (the slot was unloaded). */
    public synchronized void clear() {
        serving = null;
        previous = null;
    }

    /** The serving version, or {@code null}. */
    public @Nullable Entry<C> serving() {
        return serving;
    }

    /** The version the serving one replaced, or {@code null} if there is none to roll back to. */
    public @Nullable Entry<C> previous() {
        return previous;
    }
}
