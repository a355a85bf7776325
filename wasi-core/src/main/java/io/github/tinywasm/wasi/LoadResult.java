package io.github.tinywasm.wasi;

import java.util.Objects;

/**
 * What a load, reload or rollback of a module did, and the module's snapshot afterwards.
 *
 * @param module the module after the operation
 * @param outcome what happened
 */
public record LoadResult(ModuleInfo module, Outcome outcome) {

    public LoadResult {
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** What a load did. */
    public enum Outcome {
        /** The module was not loaded before: its first version now serves. */
        LOADED,
        /** A new version replaced the serving one (a hot swap). */
        SWAPPED,
        /** The bytes are those of the serving version: nothing was done (load with {@code force} to swap anyway). */
        UNCHANGED,
        /** The previous version replaced the serving one. */
        ROLLED_BACK
    }
}
