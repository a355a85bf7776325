package io.github.tinywasm.wasi.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathPatternTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource({
        "/users, /users, true",
        "/users, /users/, true",
        "/users, /users/42, false",
        "/users, /user, false",
        "/users, /usersx, false",
        "/users, /Users, false",
        "/users, users, false",
        "/users/*, /users/42, true",
        "/users/*, /users/42/, true",
        "/users/*, /users/42/x, false",
        "/users/*, /users, false",
        "/users/*, /users/, false",
        "/users/*, /users//, false",
        "/users/*, /users/., false",
        "/users/*, /users/.., false",
        "/users/*, /users/..., true",
        "/users/*, /users/.x, true",
        "/*/edit, /42/edit, true",
        "/*/edit, //edit, false",
        "/api/**, /api, true",
        "/api/**, /api/, true",
        "/api/**, /api/v1, true",
        "/api/**, /api/v1/users/42, true",
        "/api/**, /apix, false",
        "/api/**, /apix/v1, false",
        "/api/**, /api//x, false",
        "/api/**, /api/../admin, false",
        "/api/**, /api/./x, false",
        "/api/**, /, false",
        "/api/*/**, /api/v1/x, true",
        "/api/*/**, /api/v1, true",
        "/api/*/**, /api, false",
        "/, /, true",
        "/, /x, false",
        "/, '', false",
        "/**, /, true",
        "/**, /anything/at/all, true",
        "/**, /a/../b, true",
        "/a+b, /a+b, true",
        "/a+b, /aab, false",
    })
    void matches(String pattern, String path, boolean expected) {
        assertThat(PathPattern.of(pattern).matches(path)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "users", "users/*", "/users/", "/a//b", "//", "/us*ers", "/**/x", "/a/**/b", "/a/***",
        "/a/.", "/a/../b", "/*x"})
    void badPatternsAreRefusedWithTheirText(String pattern) {
        assertThatIllegalArgumentException().isThrownBy(() -> PathPattern.of(pattern))
                .withMessageContaining("'" + pattern + "'");
    }

    @Test
    void anyMatchesEveryPathAndIsWrittenAsTheRestFromTheRoot() {
        assertThat(PathPattern.any()).isEqualTo(PathPattern.of("/**"));
        assertThat(PathPattern.any().toString()).isEqualTo("/**");
        assertThat(PathPattern.any().matches("")).isTrue();
        assertThat(PathPattern.of("/users/*")).hasToString("/users/*").isEqualTo(PathPattern.of("/users/*"))
                .isNotEqualTo(PathPattern.of("/users/**"));
    }
}
