package io.github.tinywasm.wasi;

import io.github.tinywasm.wasi.http.HttpInfo;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A read-only snapshot of one module slot.
 *
 * @param name the slot's name ({@code users} for {@code users.wasm})
 * @param state the slot's state
 * @param topics topics the serving version subscribes to, sorted
 * @param file the file the serving version came from, or {@code null} if it was loaded from bytes
 * @param sha256 hex SHA-256 of the serving version's bytes, or {@code null} if none serves
 * @param size size in bytes of the serving version
 * @param loadedAt when the serving version was committed, or {@code null}
 * @param engine how the serving version runs: "compiler", "interpreter", or why it fell back; {@code null} if none
 *     serves
 * @param memoryBytes the serving version's linear memory size when the snapshot was taken, or {@code null} when no
 *     version serves or the serving one has no memory
 * @param lastError the most recent error of this module, or {@code null}
 * @param lastErrorAt when it happened, or {@code null}
 * @param lastLoadFailed whether the most recent load or swap failed (an older version may still serve)
 * @param mailboxDepth messages and HTTP requests queued for the module
 * @param counters cumulative counters
 * @param http how the module answers HTTP: mode, middleware rule, pool size, request counters
 * @param previousSha256 hex SHA-256 of the version a rollback would return to, or {@code null} if there is none
 */
public record ModuleInfo(
        String name,
        ModuleState state,
        List<String> topics,
        @Nullable String file,
        @Nullable String sha256,
        long size,
        @Nullable Instant loadedAt,
        @Nullable String engine,
        @Nullable Long memoryBytes,
        @Nullable String lastError,
        @Nullable Instant lastErrorAt,
        boolean lastLoadFailed,
        int mailboxDepth,
        ModuleCounters counters,
        HttpInfo http,
        @Nullable String previousSha256) {

    public ModuleInfo {
        topics = List.copyOf(topics);
    }

    /** Whether a version of the module is serving messages (possibly an older one after a failed swap). */
    public boolean serving() {
        return state == ModuleState.SERVING || state == ModuleState.SWAPPING;
    }
}
