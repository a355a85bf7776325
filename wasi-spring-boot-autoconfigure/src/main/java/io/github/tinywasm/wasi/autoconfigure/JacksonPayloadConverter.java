package io.github.tinywasm.wasi.autoconfigure;

import tools.jackson.databind.json.JsonMapper;

/** JSON payloads with a Jackson 3 {@link JsonMapper} (the application's, as configured by Spring Boot). */
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
    public <T> T read(byte[] payload, Class<T> type) {
        return mapper.readValue(payload, type);
    }
}
