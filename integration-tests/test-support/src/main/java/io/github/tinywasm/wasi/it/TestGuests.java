package io.github.tinywasm.wasi.it;

import io.github.tinywasm.wasi.Guests;

/** Real guests for the integration tests, compiled here from WAT. */
public final class TestGuests {

    private TestGuests() {}

    /**
     * A guest that ws_broadcasts every payload it receives on one bus topic to one WebSocket topic.
     *
     * @param in the bus topic it subscribes to
     * @param ws the WebSocket topic it broadcasts to
     * @param pages its linear memory in 64 KiB pages: payloads up to about that size
     */
    public static byte[] broadcaster(String in, String ws, int pages) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") %d)
                  (data (i32.const 16) "%s")
                  (data (i32.const 1024) "%s")
                  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const %d) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $ws_broadcast (i32.const 1024) (i32.const %d) (local.get $p) (local.get $l))))
                """.formatted(pages, in, ws, in.length(), ws.length()));
    }

    /** A guest that republishes every payload it receives on {@code in} on {@code out}. */
    public static byte[] relay(String in, String out) {
        return Guests.relay(in, out);
    }
}
