package io.github.tinywasm.wasi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An error of one module: it names the module, says what went wrong in words, and keeps the cause. It
 * never takes the host or another module down; the module's slot records it as its last error.
 */
public class WasiModuleException extends RuntimeException {

    /** What kind of error, for counting and for callers that react differently. */
    public enum Kind {
        /** The bytes are not a valid WebAssembly module. */
        INVALID_MODULE,
        /** The module imports something the host does not provide, or an export has the wrong type. */
        LINK,
        /** The guest trapped ({@code unreachable}, division by zero, out-of-bounds access, ...). */
        TRAP,
        /** A guest call ran past the configured call timeout and was interrupted. */
        TIMEOUT,
        /** The guest passed a pointer/length outside its memory to a host function. */
        MEMORY,
        /** A message had to be delivered but the guest exports no allocator, or it returned 0. */
        NO_ALLOCATOR,
        /** The guest called {@code proc_exit} with a non-zero code. */
        EXIT,
        /** The module's file could not be read. */
        IO,
        /** The module's file or bytes are larger than the configured maximum module size. */
        TOO_LARGE,
        /**
         * Something needed the module's memory and the module has none: a host call passing a pointer, or a message
         * to deliver.
         */
        NO_MEMORY,
        /**
         * The guest broke the HTTP ABI: an {@code http_*} import called outside a request, a bad status or header, or
         * a response larger than the configured maximum.
         */
        HTTP,
        /**
         * A file in the modules folder whose name is not a valid module name (letters, digits, {@code .}, {@code _} and
         * {@code -}, starting with a letter or digit, at most 128 characters, then {@code .wasm}): it is not loaded.
         */
        NAME,
        /**
         * The guest called {@code publish}, {@code subscribe} or {@code ws_broadcast} on a topic its capabilities
         * ({@code tinywasm.wasi.modules.<name>.publish|subscribe|broadcast}) do not allow: the call traps.
         */
        DENIED
    }

    private final String module;
    private final Kind kind;

    public WasiModuleException(String module, Kind kind, String message, @Nullable Throwable cause) {
        super("module '" + module + "': " + message, cause);
        this.module = module;
        this.kind = kind;
    }

    public WasiModuleException(String module, Kind kind, String message) {
        this(module, kind, message, null);
    }

    /** The message, which names the module: never {@code null}. */
    @Override
    public String getMessage() {
        return Objects.requireNonNull(super.getMessage()); // the constructor always passes one
    }

    /** Name of the module the error belongs to. */
    public String module() {
        return module;
    }

    public Kind kind() {
        return kind;
    }
}
