package io.github.tinywasm.wasi.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicPatternTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource({
        "orders, orders, true",
        "orders, orders.eu, false",
        "orders, order, false",
        "orders, ordersx, false",
        "orders.*, orders.eu, true",
        "orders.*, orders.eu.paris, false",
        "orders.*, orders, false",
        "orders.*, orders., false",
        "*.eu, orders.eu, true",
        "*.eu, .eu, false",
        "*.*, a.b, true",
        "*, a, true",
        "*, a.b, false",
        "orders.>, orders.eu.paris, true",
        "orders.>, orders.eu, true",
        "orders.>, orders, false",
        "orders.>, orders., false",
        "orders.>, orders.eu., false",
        "orders.>, orders..eu, false",
        "orders.>, ordersx.eu, false",
        ">, a, true",
        ">, a.b.c, true",
        "a+b, a+b, true",
        "a+b, aab, false",
        "a.*.c, a.b.c, true",
        "a.*.c, a.b.d, false",
        "a.*.>, a.b.c.d, true",
        "a.*.>, a.b, false",
    })
    void matches(String pattern, String topic, boolean expected) {
        assertThat(TopicPattern.of(pattern).matches(topic)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"or*ders", "a.>.b", "a..b", "", ".a", "a.", ">x", "a.b>"})
    void badPatternsAreRefusedWithTheirText(String pattern) {
        assertThatIllegalArgumentException().isThrownBy(() -> TopicPattern.of(pattern))
                .withMessageContaining("bad topic pattern '" + pattern + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "a.b", "a..b", "."})
    void anyMatchesEveryTopic(String topic) {
        assertThat(TopicPattern.any().matches(topic)).isTrue();
    }
}
