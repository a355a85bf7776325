package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.Guests;

/** The guest of the observation tests. */
final class ObservedGuest {

    private ObservedGuest() {}

    /**
     * Subscribes to "in"; for each payload broadcasts it to WebSocket topic "view" and publishes it on "out"; traps
     * (unreachable) on a payload starting with '!'.
     */
    static byte[] bytes() {
        return Guests.onIn("out", """
                  (data (i32.const 48) "view")
                """, """
                    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 33)) (then unreachable))
                    (call $ws_broadcast (i32.const 48) (i32.const 4) (local.get $p) (local.get $l))
                    (call $publish (i32.const 32) (i32.const 3) (local.get $p) (local.get $l))
                """);
    }
}
