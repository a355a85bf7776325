package io.github.tinywasm.wasi.autoconfigure;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON payloads with a Jackson 3 {@link JsonMapper} (the application's, as configured by Spring Boot). Thread-safe,
 * as the mapper is.
 */
public class JacksonPayloadConverter implements WasiPayloadConverter {

    private final JsonMapper mapper;

    public JacksonPayloadConverter(JsonMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public byte[] write(Object value) {
        return mapper.writeValueAsBytes(value);
    }

    @Override
    public <T> @Nullable T read(byte[] payload, Class<T> type) {
        return mapper.readValue(payload, type);
    }
}
