package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request in flight in one instance, in extended mode: what the {@code env.http_*} imports read (the request,
 * with the headers a middleware sets for the modules after it) and write (status, headers, body). It lives for one
 * {@code handle_http} call.
 *
 * <p>Confined to the thread calling into the instance, like the instance: it needs no lock.
 */
final class HttpExchange {

    /** Header fields a guest may not set: hop-by-hop fields, and the length, which the web stack computes. */
    static final Set<String> REFUSED_RESPONSE_HEADERS = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length");

    private final String module;
    private final long maxResponseSize;
    private GuestHttpRequest request;
    private byte @Nullable [] head;
    private int status = 200;
    private final List<Header> headers = new ArrayList<>();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    HttpExchange(String module, GuestHttpRequest request, long maxResponseSize) {
        this.module = module;
        this.request = request;
        this.maxResponseSize = maxResponseSize;
    }

    GuestHttpRequest request() {
        return request;
    }

    /**
     * {@code METHOD SP target SP HTTP/1.1 CRLF}, then {@code Name: value CRLF} per field, then an empty line: an
     * HTTP/1.1 request head as a parser expects it. Bytes as received (ISO-8859-1 both ways).
     */
    byte[] head() {
        if (head == null) {
            StringBuilder b = new StringBuilder(256);
            b.append(request.method()).append(' ').append(request.target()).append(" HTTP/1.1\r\n");
            for (Header h : request.headers()) {
                b.append(h.name()).append(": ").append(h.value()).append("\r\n");
            }
            b.append("\r\n");
            head = b.toString().getBytes(StandardCharsets.ISO_8859_1);
        }
        return head;
    }

    /** {@code http_request_set_header}: the modules after this one see {@code name: value} instead of any such field. */
    void setRequestHeader(String name, String value) {
        request = request.withHeader(name, value);
        head = null;
    }

    void status(int code) {
        // an interim status (1xx) cannot end a request: a client that gets one as the answer waits for the real one
        if (code < 200 || code > 599) {
            throw new WasiModuleException(module, Kind.HTTP, "http_response_status: " + code
                    + " is not a final HTTP status (200-599)");
        }
        status = code;
    }

    void addHeader(String name, String value) {
        if (REFUSED_RESPONSE_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
            throw new WasiModuleException(module, Kind.HTTP, "http_response_header: '" + name
                    + "' is a hop-by-hop or length field, which the host sets itself");
        }
        headers.add(new Header(name, value));
    }

    /** Fails unless {@code more} bytes fit in the response body. */
    void reserve(long more) {
        if (body.size() + more > maxResponseSize) {
            throw new WasiModuleException(module, Kind.HTTP, "http_response_write: the response body would be "
                    + (body.size() + more) + " bytes, more than the maximum response size of " + maxResponseSize + " bytes");
        }
    }

    void write(byte[] bytes) {
        reserve(bytes.length);
        body.writeBytes(bytes);
    }

    GuestHttpResponse response() {
        List<Header> all = headers;
        if (body.size() > 0 && all.stream().noneMatch(h -> h.is("Content-Type"))) {
            all = new ArrayList<>(headers);
            all.add(new Header("Content-Type", "application/octet-stream"));
        }
        return new GuestHttpResponse(status, all, body.toByteArray(), null);
    }

    /**
     * Checks a header field a guest names: a token as HTTP defines it (1 to 256 characters) and a value without CR,
     * LF, NUL or any other control character but tab (at most 8 KiB), so that a guest can never split a header nor
     * make a response that a web stack or a client refuses.
     */
    static void checkField(String module, String function, String name, String value) {
        if (name.isEmpty() || name.length() > 256) {
            throw new WasiModuleException(module, Kind.HTTP, function + ": a header name must have 1 to 256 characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)) {
                throw new WasiModuleException(module, Kind.HTTP, function + ": '" + printable(name)
                        + "' is not a valid header name");
            }
        }
        if (value.length() > 8192) {
            throw new WasiModuleException(module, Kind.HTTP, function + ": the value of '" + name
                    + "' is longer than 8192 bytes");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw new WasiModuleException(module, Kind.HTTP, function + ": the value of '" + name
                        + "' contains CR, LF or NUL");
            }
            // RFC 9110 field-value: no control character but tab. Netty refuses such a value while writing the
            // response (a bare 500 that names no module and counts no error); Tomcat sends it as it is
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                throw new WasiModuleException(module, Kind.HTTP, function + ": the value of '" + name
                        + "' contains a control character (" + String.format("0x%02x", (int) c) + ")");
            }
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && i < 64; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.toString();
    }
}
