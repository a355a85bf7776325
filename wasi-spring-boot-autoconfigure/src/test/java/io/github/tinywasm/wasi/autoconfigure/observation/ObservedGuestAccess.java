package io.github.tinywasm.wasi.autoconfigure.observation;

/** {@link ObservedGuest} for tests in other packages. */
public final class ObservedGuestAccess {

    private ObservedGuestAccess() {}

    public static byte[] bytes() {
        return ObservedGuest.bytes();
    }
}
