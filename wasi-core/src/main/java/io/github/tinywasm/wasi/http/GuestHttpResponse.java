package io.github.tinywasm.wasi.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP response from a guest (or from the host on its behalf: 404, 503, ...), independent of the web stack that
 * sends it. Immutable: the body is copied when the response is made.
 *
 * @param status the status code (200-599: a final status; an interim 1xx cannot answer a request)
 * @param headers the header fields, in order; never hop-by-hop fields, never {@code Content-Length} (the web stack
 *     sets it from the body)
 * @param body the body bytes
 * @param module the module the request was for ({@code users} for {@code /m/users/42}) when such a module is loaded,
 *     whoever answered (a middleware, or the host); {@code null} when no loaded module has that name. Low cardinality:
 *     what an application may tag metrics with.
 */
public record GuestHttpResponse(int status, List<Header> headers, byte[] body, @Nullable String module) {

    /** Content type of text answers: the reply of a compatible guest that is neither HTML nor JSON, and errors. */
    public static final String TEXT = "text/plain;charset=UTF-8";

    private static final byte[] EMPTY = new byte[0];

    public GuestHttpResponse {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("not a final HTTP status: " + status);
        }
        headers = List.copyOf(headers);
        body = body == null || body.length == 0 ? EMPTY : body.clone();
    }

    /**
     * An error answered by the host, as Go's {@code http.Error} writes it (the original's): {@code message} and a
     * newline, as {@code text/plain;charset=UTF-8}, with {@code X-Content-Type-Options: nosniff}.
     */
    public static GuestHttpResponse error(int status, String message, @Nullable String module) {
        return new GuestHttpResponse(status, List.of(new Header("Content-Type", TEXT),
                new Header("X-Content-Type-Options", "nosniff")),
                (message + "\n").getBytes(StandardCharsets.UTF_8), module);
    }

    /** This response with one more header field. */
    public GuestHttpResponse withHeader(String name, String value) {
        List<Header> more = new ArrayList<>(headers);
        more.add(new Header(name, value));
        return new GuestHttpResponse(status, more, body, module);
    }

    /** This response for module {@code module} (see {@link #module()}). */
    public GuestHttpResponse forModule(@Nullable String module) {
        return Objects.equals(module, this.module) ? this : new GuestHttpResponse(status, headers, body, module);
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

    /** The body decoded as UTF-8. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
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

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof GuestHttpResponse r && status == r.status && headers.equals(r.headers)
                && Arrays.equals(body, r.body) && Objects.equals(module, r.module);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, headers, Arrays.hashCode(body), module);
    }

    @Override
    public String toString() {
        return "GuestHttpResponse[" + status + ", " + headers.size() + " headers, " + body.length + " bytes"
                + (module != null ? ", module " + module : "") + "]";
    }
}
