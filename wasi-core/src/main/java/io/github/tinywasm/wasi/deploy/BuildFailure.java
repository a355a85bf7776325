package io.github.tinywasm.wasi.deploy;

import java.util.Objects;

/** Why a build of a guest module did not produce a module: a one-line reason and the state it leaves. */
final class BuildFailure extends Exception {

    private final GuestBuildStatus.State state;

    BuildFailure(GuestBuildStatus.State state, String reason) {
        super(reason, null, false, false);
        this.state = state;
    }

    static BuildFailure failed(String reason) {
        return new BuildFailure(GuestBuildStatus.State.FAILED, reason);
    }

    static BuildFailure toolchainMissing(String reason) {
        return new BuildFailure(GuestBuildStatus.State.TOOLCHAIN_MISSING, reason);
    }

    /** The reason: never {@code null}. */
    @Override
    public String getMessage() {
        return Objects.requireNonNull(super.getMessage()); // the constructor always passes one
    }

    GuestBuildStatus.State state() {
        return state;
    }
}
