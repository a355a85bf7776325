package io.github.tinywasm.wasi.autoconfigure;

import org.jspecify.annotations.Nullable;

/**
 * Turns application objects into message payloads and back. The auto-configuration provides one backed by the
 * application's Jackson {@code JsonMapper} when Jackson is on the class path ({@link JacksonPayloadConverter});
 * define a bean of this type to use another format. Implementations must be thread-safe: publishers and bus
 * workers call them concurrently.
 */
public interface WasiPayloadConverter {

    /** The payload bytes of {@code value}. */
    byte[] write(Object value);

    /** A {@code type} read from {@code payload}; {@code null} when the payload says so (JSON {@code null}). */
    <T> @Nullable T read(byte[] payload, Class<T> type);
}
