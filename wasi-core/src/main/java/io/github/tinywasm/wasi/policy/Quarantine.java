package io.github.tinywasm.wasi.policy;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts a module's failures in a row and says when it must be quarantined: no more calls into it, its messages go to
 * the dead-letter topic, until a new version (or a reload) is committed.
 *
 * <p>Thread-safe: the module's workers report outcomes; the thread swapping the slot lifts it.
 */
public final class Quarantine {

    private final int after;
    private final AtomicInteger inARow = new AtomicInteger();
    private volatile boolean active;

    /** @param after failures in a row that quarantine the module; 0 = never */
    public Quarantine(int after) {
        this.after = after;
    }

    /** A message was handled: the run of failures is over. */
    public void succeeded() {
        if (inARow.get() != 0) {
            inARow.set(0);
        }
    }

    /**
     * A message failed (trap or timeout).
     *
     * @return true when this failure quarantines the module (once)
     */
    public boolean failed() {
        if (after == 0 || active) {
            return false;
        }
        if (inARow.incrementAndGet() >= after) {
            active = true;
            return true;
        }
        return false;
    }

    /** Whether the module is quarantined. */
    public boolean active() {
        return active;
    }

    /** A new version serves: the quarantine is lifted and the count starts over. */
    public void lift() {
        active = false;
        inARow.set(0);
    }

    public int after() {
        return after;
    }
}
