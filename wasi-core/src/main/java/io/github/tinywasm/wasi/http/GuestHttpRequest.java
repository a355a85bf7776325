package io.github.tinywasm.wasi.http;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP request for a guest, independent of the web stack that received it. Immutable: the body is copied when the
 * request is made, {@link #body()} returns a copy and {@link #bodyBuffer()} a read-only view.
 *
 * @param method the method, e.g. {@code GET}
 * @param path the decoded path, without the query, e.g. {@code /m/users/42}: what a compatible guest receives
 * @param target the request target as sent, with the query, e.g. {@code /m/users/42?full=1}: what an extended guest
 *     receives in its request line
 * @param headers the header fields in the order received; a field sent twice is there twice
 * @param body the body bytes (empty when there is none)
 */
public record GuestHttpRequest(String method, String path, String target, List<Header> headers, byte[] body) {

    private static final byte[] EMPTY = new byte[0];

    public GuestHttpRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(target, "target");
        if (method.isEmpty()) {
            throw new IllegalArgumentException("method must not be empty");
        }
        headers = List.copyOf(headers);
        body = body == null || body.length == 0 ? EMPTY : body.clone();
    }

    /** A request without headers or body, whose target is its path. */
    public static GuestHttpRequest of(String method, String path) {
        return new GuestHttpRequest(method, path, path, List.of(), EMPTY);
    }

    /** A copy of the body. */
    @Override
    public byte[] body() {
        return body.clone();
    }

    /** A read-only view of the body, without copying. */
    public ByteBuffer bodyBuffer() {
        return ByteBuffer.wrap(body).asReadOnlyBuffer();
    }

    public int bodySize() {
        return body.length;
    }

    /** The first value of header {@code name} (any case), or {@code null}. */
    public @Nullable String header(String name) {
        for (Header h : headers) {
            if (h.is(name)) {
                return h.value();
            }
        }
        return null;
    }

    /**
     * This request with header {@code name} set to {@code value}: every field of that name (any case) is replaced by
     * this one, which goes last. What a middleware's {@code http_request_set_header} does for the modules after it.
     */
    public GuestHttpRequest withHeader(String name, String value) {
        Header set = new Header(name, value);
        List<Header> more = new ArrayList<>(headers.size() + 1);
        for (Header h : headers) {
            if (!h.is(name)) {
                more.add(h);
            }
        }
        more.add(set);
        return new GuestHttpRequest(method, path, target, more, body); // a record cannot share its array: the body is copied
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof GuestHttpRequest r && method.equals(r.method) && path.equals(r.path)
                && target.equals(r.target) && headers.equals(r.headers) && Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, path, target, headers, Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return "GuestHttpRequest[" + method + " " + target + ", " + headers.size() + " headers, " + body.length + " bytes]";
    }
}
