package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.ValType;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@code env.http_*} imports of one instance (extended HTTP mode), and the request they serve: the
 * {@link HttpExchange} in flight, set for the duration of one {@code handle_http} call. A guest that imports none of
 * them notices nothing; one that calls them outside {@code handle_http} gets an error of its module.
 *
 * <table>
 * <caption>imports</caption>
 * <tr><td>{@code http_request_head(buf, cap) -> len}</td><td>writes the request head if it fits; returns its length</td></tr>
 * <tr><td>{@code http_request_body(buf, cap, offset) -> n}</td><td>copies body bytes from {@code offset}; 0 at the end</td></tr>
 * <tr><td>{@code http_request_set_header(name, nlen, value, vlen)}</td><td>for the modules after this one</td></tr>
 * <tr><td>{@code http_response_status(code)}</td><td>default 200</td></tr>
 * <tr><td>{@code http_response_header(name, nlen, value, vlen)}</td><td>adds a field (hop-by-hop ones refused)</td></tr>
 * <tr><td>{@code http_response_write(ptr, len)}</td><td>appends body bytes</td></tr>
 * </table>
 *
 * <p>Confined to the thread calling into the instance: {@link #begin} and {@link #end} bracket the call on that
 * thread, and the imports run on it.
 */
final class HttpImports {

    private static final List<ValType> NONE = List.of();
    private static final List<ValType> I32 = List.of(ValType.I32);
    private static final List<ValType> I32X2 = List.of(ValType.I32, ValType.I32);
    private static final List<ValType> I32X3 = List.of(ValType.I32, ValType.I32, ValType.I32);
    private static final List<ValType> I32X4 = List.of(ValType.I32, ValType.I32, ValType.I32, ValType.I32);

    private final String module;
    private @Nullable HttpExchange exchange;

    HttpImports(String module) {
        this.module = module;
    }

    /** Type of an {@code http_*} import, or {@code null} for another name. */
    static @Nullable FunctionType type(String name) {
        return switch (name) {
            case "http_request_head" -> FunctionType.of(I32X2, I32);
            case "http_request_body" -> FunctionType.of(I32X3, I32);
            case "http_request_set_header", "http_response_header", "http_response_write" ->
                    FunctionType.of("http_response_write".equals(name) ? I32X2 : I32X4, NONE);
            case "http_response_status" -> FunctionType.of(I32, NONE);
            default -> null;
        };
    }

    void begin(HttpExchange e) {
        exchange = e;
    }

    void end() {
        exchange = null;
    }

    private HttpExchange exchange(String function) {
        HttpExchange e = exchange;
        if (e == null) {
            throw new WasiModuleException(module, Kind.HTTP, function
                    + " was called outside an HTTP request (only during handle_http)");
        }
        return e;
    }

    HostFunction[] functions() {
        return new HostFunction[] {
            new HostFunction(HostBuilder.ENV, "http_request_head", I32X2, I32, (inst, args) -> {
                byte[] head = exchange("http_request_head").head();
                if (head.length <= (args[1] & 0xFFFFFFFFL)) {
                    GuestMemory.write(module, inst, "http_request_head", "buffer", args[0], head, 0, head.length);
                }
                return new long[] {head.length};
            }),
            new HostFunction(HostBuilder.ENV, "http_request_body", I32X3, I32, (inst, args) -> {
                HttpExchange e = exchange("http_request_body");
                long offset = args[2] & 0xFFFFFFFFL;
                int size = e.request().bodySize();
                int n = (int) Math.max(0, Math.min(args[1] & 0xFFFFFFFFL, size - offset));
                if (n > 0) {
                    byte[] chunk = new byte[n];
                    e.request().bodyBuffer().get((int) offset, chunk);
                    GuestMemory.write(module, inst, "http_request_body", "buffer", args[0], chunk, 0, n);
                }
                return new long[] {n};
            }),
            new HostFunction(HostBuilder.ENV, "http_request_set_header", I32X4, NONE, (inst, args) -> {
                HttpExchange e = exchange("http_request_set_header");
                String name = text(inst, "http_request_set_header", "name", args[0], args[1]);
                String value = text(inst, "http_request_set_header", "value", args[2], args[3]);
                HttpExchange.checkField(module, "http_request_set_header", name, value);
                e.setRequestHeader(name, value);
                return null;
            }),
            new HostFunction(HostBuilder.ENV, "http_response_status", I32, NONE, (inst, args) -> {
                exchange("http_response_status").status((int) args[0]);
                return null;
            }),
            new HostFunction(HostBuilder.ENV, "http_response_header", I32X4, NONE, (inst, args) -> {
                HttpExchange e = exchange("http_response_header");
                String name = text(inst, "http_response_header", "name", args[0], args[1]);
                String value = text(inst, "http_response_header", "value", args[2], args[3]);
                HttpExchange.checkField(module, "http_response_header", name, value);
                e.addHeader(name, value);
                return null;
            }),
            new HostFunction(HostBuilder.ENV, "http_response_write", I32X2, NONE, (inst, args) -> {
                HttpExchange e = exchange("http_response_write");
                e.reserve(args[1] & 0xFFFFFFFFL); // before reading: a guest cannot make the host copy what it refuses
                e.write(GuestMemory.read(module, inst, "http_response_write", "body", args[0], args[1]));
                return null;
            })
        };
    }

    /** A header name or value: bytes kept as they are (ISO-8859-1), as HTTP carries them; at most 8 KiB. */
    private String text(Instance inst, String function, String what, long ptr, long len) {
        if ((len & 0xFFFFFFFFL) > 8192) {
            throw new WasiModuleException(module, Kind.HTTP, function + ": header " + what + " longer than 8192 bytes");
        }
        return new String(GuestMemory.read(module, inst, function, "header " + what, ptr, len), StandardCharsets.ISO_8859_1);
    }
}
