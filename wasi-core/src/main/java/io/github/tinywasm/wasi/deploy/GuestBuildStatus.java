package io.github.tinywasm.wasi.deploy;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What {@link GuestBuilds} knows about the builds of one module: a read-only snapshot.
 *
 * @param module the module's name: its source folder is {@code <sources>/<module>/}, its output
 *     {@code <modules>/<module>.wasm}
 * @param state the build running now, or how the last one ended
 * @param kind how the folder is built: {@code rust}, {@code c}, {@code assemblyscript}, {@code script}
 *     ({@code build.sh}) or {@code command} (a configured command); {@code null} when nothing in the folder says
 * @param sources the module's source folder
 * @param lastOutput the last build's compiler output (commands and their output, only the end of it when long);
 *     {@code ""} before the first build
 * @param lastError one line saying why the last build failed, or {@code null} if it did not fail
 * @param lastStartedAt when the last build started, or {@code null}
 * @param lastSuccessAt when a build last succeeded, or {@code null}
 * @param lastFailureAt when a build last failed (failed, timed out, or found no toolchain), or {@code null}
 * @param lastDuration how long the last finished build took, or {@code null}
 * @param sha256 hex SHA-256 of the module the last successful build produced, or {@code null}
 * @param builds builds run since start
 * @param failures builds that failed, timed out or found no toolchain, since start
 * @param queued whether another build of the module is waiting to run: its sources changed during the running
 *     build, or the build threads are busy with other modules
 */
public record GuestBuildStatus(
        String module,
        State state,
        @Nullable String kind,
        String sources,
        String lastOutput,
        @Nullable String lastError,
        @Nullable Instant lastStartedAt,
        @Nullable Instant lastSuccessAt,
        @Nullable Instant lastFailureAt,
        @Nullable Duration lastDuration,
        @Nullable String sha256,
        long builds,
        long failures,
        boolean queued) {

    /** Where a module's builds are. */
    public enum State {
        /** Watched; not built since start (its module file was there). */
        IDLE,
        /** A build is running (the other fields describe the previous one). */
        BUILDING,
        /** The last build succeeded; its module was deployed (or was already the deployed one). */
        SUCCEEDED,
        /** The last build failed (a compiler error, no output, an unusable output); the serving version stays. */
        FAILED,
        /** The last build ran past its timeout and was stopped; the serving version stays. */
        TIMED_OUT,
        /** The last build could not start: a tool it needs is not installed ({@code lastError} says which). */
        TOOLCHAIN_MISSING,
        /** Nothing in the folder says how to build it (no Cargo.toml, C guest, asconfig.json, build.sh, command). */
        NO_RECIPE
    }

    /** Whether the last build failed in any way. */
    public boolean failed() {
        return state == State.FAILED || state == State.TIMED_OUT || state == State.TOOLCHAIN_MISSING;
    }

    static GuestBuildStatus initial(String module, String sources, @Nullable String kind) {
        return new GuestBuildStatus(module, kind == null ? State.NO_RECIPE : State.IDLE, kind, sources, "", null,
                null, null, null, null, null, 0, 0, false);
    }

    GuestBuildStatus building(String kind, Instant at) {
        return new GuestBuildStatus(module, State.BUILDING, kind, sources, lastOutput, lastError, at, lastSuccessAt,
                lastFailureAt, lastDuration, sha256, builds, failures, false);
    }

    GuestBuildStatus noRecipe() {
        return new GuestBuildStatus(module, State.NO_RECIPE, null, sources, lastOutput, lastError, lastStartedAt,
                lastSuccessAt, lastFailureAt, lastDuration, sha256, builds, failures, false);
    }

    GuestBuildStatus succeeded(String output, Instant at, Duration took, String builtSha256) {
        return new GuestBuildStatus(module, State.SUCCEEDED, kind, sources, output, null, lastStartedAt, at,
                lastFailureAt, took, builtSha256, builds + 1, failures, false);
    }

    GuestBuildStatus failed(State how, String error, String output, Instant at, Duration took) {
        return new GuestBuildStatus(module, how, kind, sources, output, error, lastStartedAt, lastSuccessAt, at, took,
                sha256, builds + 1, failures + 1, false);
    }

    GuestBuildStatus queued(boolean queued) {
        return queued == this.queued ? this : new GuestBuildStatus(module, state, kind, sources, lastOutput, lastError,
                lastStartedAt, lastSuccessAt, lastFailureAt, lastDuration, sha256, builds, failures, queued);
    }
}
