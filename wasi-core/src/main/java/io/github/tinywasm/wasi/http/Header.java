package io.github.tinywasm.wasi.http;

import java.util.Objects;

/**
 * One HTTP header field: a name and one value. A header sent several times is several {@code Header}s, in order.
 * Names compare case-insensitively ({@link #is(String)}), as HTTP says; they keep the case they were given in.
 *
 * @param name the field name, not empty
 * @param value the field value (may be empty)
 */
public record Header(String name, String value) {

    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name must not be empty");
        }
    }

    /** Whether this header is called {@code other}, ignoring case. */
    public boolean is(String other) {
        return name.equalsIgnoreCase(other);
    }
}
