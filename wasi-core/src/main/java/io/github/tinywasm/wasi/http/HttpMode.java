package io.github.tinywasm.wasi.http;

/** How a module version answers HTTP requests, from what it exports. */
public enum HttpMode {
    /** It exports neither {@code handle} nor {@code handle_http}: as in the original, a request to it answers 204. */
    NONE,
    /** It exports {@code handle(req_ptr, req_len) -> resp_ptr}: the original's contract, byte for byte. */
    COMPATIBLE,
    /**
     * It exports {@code handle_http() -> i32} (preferred over {@code handle} when both are exported): it reads the
     * whole request and writes status, headers and a binary body through the {@code env.http_*} imports.
     */
    EXTENDED;

    /** Lower-case name used in JSON. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
