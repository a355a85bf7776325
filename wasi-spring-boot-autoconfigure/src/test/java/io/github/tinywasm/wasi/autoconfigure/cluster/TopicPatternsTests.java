package io.github.tinywasm.wasi.autoconfigure.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The bus topic patterns of {@code tinywasm.wasi.cluster.topics}: what they match and what is not a pattern. */
class TopicPatternsTests {

    @Test
    void starIsOneSegmentAndGreaterThanTheRest() {
        TopicPatterns p = TopicPatterns.of(List.of("orders.*", "metrics.>", "chat"));
        assertThat(p.matches("orders.new")).isTrue();
        assertThat(p.matches("orders")).isFalse();
        assertThat(p.matches("orders.new.eu")).isFalse();
        assertThat(p.matches("metrics.cpu")).isTrue();
        assertThat(p.matches("metrics.cpu.user")).isTrue();
        assertThat(p.matches("metrics")).isFalse();
        assertThat(p.matches("chat")).isTrue();
        assertThat(p.matches("chat.room")).isFalse();
        assertThat(p.matches("other")).isFalse();
        assertThat(TopicPatterns.of(List.of("*.created")).matches("users.created")).isTrue();
    }

    @Test
    void noPatternMatchesNothing() {
        TopicPatterns none = TopicPatterns.of(List.of());
        assertThat(none.isEmpty()).isTrue();
        assertThat(none.matches("anything")).isFalse();
    }

    @Test
    void malformedPatternsAreRefused() {
        for (String bad : new String[] {"", "a..b", ".a", "a.", "a*.b", "a.>.b", "a.b>"}) {
            assertThat(TopicPatterns.isValid(bad)).as(bad).isFalse();
        }
        assertThat(TopicPatterns.isValid(">")).isTrue();
        assertThatIllegalArgumentException().isThrownBy(() -> TopicPatterns.of(List.of("a..b")))
                .withMessageContaining("'a..b'");
    }
}
