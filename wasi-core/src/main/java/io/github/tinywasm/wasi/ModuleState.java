package io.github.tinywasm.wasi;

/** Life-cycle state of a module slot. */
public enum ModuleState {
    /** The first version is being compiled and initialised; nothing serves yet. */
    LOADING,
    /** An instance serves the slot's topics. */
    SERVING,
    /** A new version is being committed: messages queue until the swap ends. */
    SWAPPING,
    /** No instance serves: the last load failed and there was no earlier version. */
    FAILED,
    /**
     * A version is loaded but gets no calls: it failed on {@code quarantine.after} messages in a row; its messages go
     * to the dead-letter topic. A new version or a reload lifts it.
     */
    QUARANTINED,
    /** The slot is being drained and closed. */
    UNLOADING,
    /** The slot was closed; it no longer appears in snapshots once removed. */
    CLOSED
}
