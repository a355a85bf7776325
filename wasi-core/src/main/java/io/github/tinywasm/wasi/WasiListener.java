package io.github.tinywasm.wasi;

import java.time.Duration;

/**
 * Receives life-cycle events of modules: for logging, metrics and the Spring event bridge. Called on the
 * thread that did the work (a loader, the watcher, or a mailbox worker for guest errors); implementations
 * must be quick and must not throw.
 */
public interface WasiListener {

    /** A module version was committed: a first load ({@code swap == false}) or a hot swap. */
    default void moduleLoaded(String module, boolean swap, Duration took) {}

    /** Loading a version failed; the previous version, if any, keeps serving. */
    default void moduleLoadFailed(String module, boolean swap, Duration took, WasiModuleException error) {}

    /**
     * A module went back to its previous version, after {@code moduleLoaded} reported the swap.
     *
     * @param automatic whether its probation did it (the new version trapped or timed out too often), rather than a
     *     rollback asked for
     * @param fromSha256 the version rolled back from
     * @param toSha256 the version serving again
     * @param reason why, in words
     */
    default void moduleRolledBack(String module, boolean automatic, String fromSha256, String toSha256, String reason) {}

    /** A module was drained and unloaded. */
    default void moduleUnloaded(String module) {}

    /** A guest call failed while handling a message (trap, timeout, bad pointer, no allocator). */
    default void guestError(String module, WasiModuleException error) {}
}
