package io.github.tinywasm.wasi.http;

import io.github.tinywasm.wasi.Guests;
import java.util.List;

/** HTTP guests written in WAT for the tests (the C ones come from guests/build.sh), and request helpers. */
public final class HttpGuests {

    private HttpGuests() {}

    /** The {@code env.http_*} imports, as a WAT fragment. */
    public static final String HTTP_IMPORTS = """
              (import "env" "http_request_head" (func $http_request_head (param i32 i32) (result i32)))
              (import "env" "http_request_body" (func $http_request_body (param i32 i32 i32) (result i32)))
              (import "env" "http_request_set_header" (func $http_request_set_header (param i32 i32 i32 i32)))
              (import "env" "http_response_status" (func $http_response_status (param i32)))
              (import "env" "http_response_header" (func $http_response_header (param i32 i32 i32 i32)))
              (import "env" "http_response_write" (func $http_response_write (param i32 i32)))
            """;

    /** A compatible guest whose {@code handle} returns a pointer to {@code reply} (NUL-terminated), no allocator. */
    public static byte[] replying(String reply) {
        return Guests.wat("""
                (module
                  (memory (export "memory") 1)
                  (data (i32.const 1024) "%s\\00")
                  (func (export "handle") (param i32 i32) (result i32) (i32.const 1024)))
                """.formatted(reply.replace("\"", "\\\"")));
    }

    /** A compatible guest whose {@code handle} runs {@code body} (params $p $l, result i32). */
    public static byte[] handling(String body) {
        return Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 2)
                  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
                  (func (export "handle") (param $p i32) (param $l i32) (result i32)
                %s))
                """.formatted(body));
    }

    /** An extended guest whose {@code handle_http} runs {@code body} (result i32); {@code data} at offset 1024. */
    public static byte[] extended(String data, String body) {
        return Guests.wat("(module\n" + HTTP_IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 1024) "%s")
                  (func (export "handle_http") (result i32)
                %s))
                """.formatted(data, body));
    }

    /** A request with headers and a body; {@code target} may carry a query, the path is the target without it. */
    public static GuestHttpRequest request(String method, String target, List<Header> headers, byte[] body) {
        int q = target.indexOf('?');
        return new GuestHttpRequest(method, q < 0 ? target : target.substring(0, q), target, headers, body);
    }

    public static GuestHttpRequest get(String target) {
        return request("GET", target, List.of(new Header("Host", "localhost")), null);
    }
}
