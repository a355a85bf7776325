package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Memory;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import io.github.tinywasm.wasi.http.HttpMode;
import io.github.tinywasm.wasi.http.PipelineStep;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * How one instance answers HTTP: its {@code handle_http} export (extended mode, preferred) or its {@code handle} export
 * (the original's compatible mode), and what a request becomes for each.
 *
 * <p>Compatible mode is tinywasm/wasi's {@code handleMiddlewareDispatch}, byte for byte: the guest gets
 * {@code METHOD\nPATH\n} (decoded path, no query, no body) in a buffer from its {@code malloc} (or at 0 when it has
 * none, or it failed: {@code handle(0, len)} is called all the same); its reply is the bytes at the returned pointer up
 * to the first NUL, at most 64 KiB, stopping at the end of memory: 200, typed {@code text/plain;charset=UTF-8} unless it
 * starts like HTML or JSON; pointer 0 (or no {@code handle}): 204 for a target, "go on" for a middleware. When the guest
 * exports {@code free}, the request buffer is freed once the reply has been read (as a delivered message's is); the reply
 * is the guest's own.
 *
 * <p>Not thread-safe, like the instance: the thread calling into the instance calls {@link #serve}.
 */
final class HttpExports {

    /** The most bytes of a compatible reply, as the original reads. */
    static final int MAX_COMPATIBLE_REPLY = 65536;

    private static final long MASK = 0xFFFFFFFFL;
    private static final String[] HTML = {"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV",
        "<FONT", "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};

    private final WasmModule module;
    private final @Nullable ExportFunction handle;
    private final @Nullable ExportFunction handleHttp;
    private final HttpImports imports;

    HttpExports(WasmModule module, @Nullable ExportFunction handle, @Nullable ExportFunction handleHttp, HttpImports imports) {
        this.module = module;
        this.handle = handle;
        this.handleHttp = handleHttp;
        this.imports = imports;
    }

    HttpMode mode() {
        return handleHttp != null ? HttpMode.EXTENDED : handle != null ? HttpMode.COMPATIBLE : HttpMode.NONE;
    }

    /**
     * Puts {@code request} to the instance.
     *
     * @param middleware whether the module runs as a middleware (0 = go on) or as the target (0 = 204)
     * @param sideErrors errors that did not stop the request (a failed {@code malloc} or {@code free}), for the slot to
     *     count
     * @throws WasiModuleException if the guest failed: the request gets an error response
     */
    PipelineStep serve(GuestHttpRequest request, boolean middleware, long maxResponseSize,
            Consumer<WasiModuleException> sideErrors) {
        return switch (mode()) {
            case EXTENDED -> extended(request, middleware, maxResponseSize);
            case COMPATIBLE -> compatible(request, middleware, maxResponseSize, sideErrors);
            case NONE -> nothing(request, middleware);
        };
    }

    private static PipelineStep nothing(GuestHttpRequest request, boolean middleware) {
        return middleware ? PipelineStep.passed(request)
                : PipelineStep.answered(new GuestHttpResponse(204, List.of(), new byte[0], null));
    }

    private PipelineStep extended(GuestHttpRequest request, boolean middleware, long maxResponseSize) {
        HttpExchange exchange = new HttpExchange(module.name(), request, maxResponseSize);
        long answered;
        imports.begin(exchange);
        try {
            answered = module.call("handle_http", Objects.requireNonNull(handleHttp, "handleHttp"))[0]; // EXTENDED mode
        } finally {
            imports.end();
        }
        if ((int) answered == 0) {
            return nothing(exchange.request(), middleware);
        }
        return PipelineStep.answered(exchange.response());
    }

    private PipelineStep compatible(GuestHttpRequest request, boolean middleware, long maxResponseSize,
            Consumer<WasiModuleException> sideErrors) {
        byte[] req = (request.method() + "\n" + request.path() + "\n").getBytes(StandardCharsets.UTF_8);
        int ptr = place(req, sideErrors);
        long reply;
        byte[] body;
        try {
            reply = module.call("handle", Objects.requireNonNull(handle, "handle"), ptr, req.length)[0] & MASK; // COMPATIBLE mode
            body = reply == 0 ? null : readReply(reply);
        } catch (WasiModuleException failed) {
            WasiModuleException freeFailed = free(ptr);
            if (freeFailed != null) {
                failed.addSuppressed(freeFailed);
            }
            throw failed;
        }
        WasiModuleException freeFailed = free(ptr);
        if (freeFailed != null) {
            sideErrors.accept(freeFailed);
        }
        if (body == null) {
            return nothing(request, middleware);
        }
        if (body.length > maxResponseSize) {
            throw new WasiModuleException(module.name(), Kind.HTTP, "handle replied " + body.length
                    + " bytes, more than the maximum response size of " + maxResponseSize + " bytes");
        }
        return PipelineStep.answered(new GuestHttpResponse(200, List.of(new Header("Content-Type", contentType(body))),
                body, null));
    }

    /** The request bytes in a buffer from the guest's malloc, or 0 (the original calls handle(0, len) then too). */
    private int place(byte[] req, Consumer<WasiModuleException> sideErrors) {
        ExportFunction malloc = module.malloc();
        if (malloc == null) {
            return 0;
        }
        int ptr;
        try {
            ptr = (int) module.call("malloc", malloc, req.length)[0];
        } catch (WasiModuleException e) {
            sideErrors.accept(e);
            return 0;
        }
        Memory memory = module.memory();
        // Go's Memory.Write refuses a range outside memory without an error; the original then calls handle(ptr, len)
        if (ptr != 0 && memory != null && (ptr & MASK) + req.length <= (long) memory.pages() * Memory.PAGE_SIZE) {
            memory.write(ptr, req);
        }
        return ptr;
    }

    private @Nullable WasiModuleException free(int ptr) {
        ExportFunction free = module.free();
        if (ptr == 0 || free == null) {
            return null;
        }
        try {
            module.call("free", free, ptr);
            return null;
        } catch (WasiModuleException e) {
            return e;
        }
    }

    /** The reply at {@code ptr}: up to the first NUL, at most 64 KiB, stopping at the end of memory. */
    private byte[] readReply(long ptr) {
        Memory memory = module.memory();
        long size = memory == null ? 0 : (long) memory.pages() * Memory.PAGE_SIZE;
        int max = (int) Math.max(0, Math.min(MAX_COMPATIBLE_REPLY, size - ptr));
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 256));
        int chunk = 256;
        for (int at = 0; at < max; ) {
            int n = Math.min(chunk, max - at);
            byte[] bytes = Objects.requireNonNull(memory, "memory").readBytes((int) (ptr + at), n); // max is 0 without one
            for (int i = 0; i < n; i++) {
                if (bytes[i] == 0) {
                    out.write(bytes, 0, i);
                    return out.toByteArray();
                }
            }
            out.write(bytes, 0, n);
            at += n;
            chunk = Math.min(chunk * 4, 16384);
        }
        return out.toByteArray();
    }

    /** {@code text/plain;charset=UTF-8} unless the bytes start (after white space) like HTML or JSON. */
    static String contentType(byte[] body) {
        int i = 0;
        while (i < body.length && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r' || body[i] == '\f')) {
            i++;
        }
        if (i < body.length && (body[i] == '{' || body[i] == '[')) {
            return "application/json";
        }
        for (String tag : HTML) {
            int end = i + tag.length();
            if (end < body.length && new String(body, i, tag.length(), StandardCharsets.ISO_8859_1)
                    .toUpperCase(Locale.ROOT).equals(tag) && (body[end] == ' ' || body[end] == '>')) {
                return "text/html;charset=UTF-8";
            }
        }
        return GuestHttpResponse.TEXT;
    }
}
