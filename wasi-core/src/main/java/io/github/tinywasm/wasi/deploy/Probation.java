package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.Nullable;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The probation of a module's new version: for {@code length} after a swap, {@code maxFailures} traps or timeouts on
 * its messages or requests mean it goes back to the version it replaced. This class only counts and decides; the slot
 * rolls back.
 *
 * <p>Threads: {@link #start} and {@link #end} are called by the thread swapping the slot (under its swap lock);
 * {@link #failed} by the workers calling the guest, concurrently. A failure racing a new start may count for the new
 * version: the slot checks, under its lock, that the version to roll back from still serves.
 */
public final class Probation {

    private final Duration length;
    private final int maxFailures;
    private final AtomicInteger failures = new AtomicInteger();
    private volatile @Nullable String sha256;
    private volatile long until;

    /**
     * @param length how long a new version is on probation; zero disables probation
     * @param maxFailures traps or timeouts within it that roll the version back (at least 1)
     */
    public Probation(Duration length, int maxFailures) {
        this.length = length;
        this.maxFailures = Math.max(1, maxFailures);
    }

    /** Whether probation is configured at all. */
    public boolean enabled() {
        return !length.isZero() && !length.isNegative();
    }

    /** The version {@code sha256} starts its probation now (it replaced a version it can go back to). */
    public void start(String sha256) {
        if (!enabled()) {
            return;
        }
        failures.set(0);
        until = System.nanoTime() + length.toNanos();
        this.sha256 = sha256;
    }

    /** No version is on probation (a rollback, a first load, an unload). */
    public void end() {
        sha256 = null;
    }

    /**
     * Counts a trap or timeout of the serving version.
     *
     * @return the SHA-256 of the version on probation when this failure is the one that reaches the limit (once per
     *     probation), else {@code null}
     */
    public @Nullable String failed() {
        String sha = sha256;
        if (sha == null) {
            return null;
        }
        if (System.nanoTime() - until > 0) {
            sha256 = null; // passed its probation
            return null;
        }
        return failures.incrementAndGet() == maxFailures ? sha : null;
    }

    /** Whether a version is on probation now (and so has a version to go back to). */
    public boolean active() {
        String sha = sha256;
        return sha != null && System.nanoTime() - until <= 0;
    }

    public Duration length() {
        return length;
    }

    public int maxFailures() {
        return maxFailures;
    }
}
