package io.github.tinywasm.wasi.autoconfigure.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

/** The topic pattern syntax. */
class TopicAuthorizationManagerTests {

    @Test
    void patterns() {
        assertThat(TopicAuthorizationManager.matches("orders", "orders")).isTrue();
        assertThat(TopicAuthorizationManager.matches("orders", "orders.eu")).isFalse();
        assertThat(TopicAuthorizationManager.matches("orders.*", "orders.eu")).isTrue();
        assertThat(TopicAuthorizationManager.matches("orders.*", "orders.eu.paris")).isFalse();
        assertThat(TopicAuthorizationManager.matches("orders.*", "orders")).isFalse();
        assertThat(TopicAuthorizationManager.matches("orders.>", "orders.eu.paris")).isTrue();
        assertThat(TopicAuthorizationManager.matches("orders.>", "orders")).isFalse();
        assertThat(TopicAuthorizationManager.matches("*.eu", "orders.eu")).isTrue();
        assertThat(TopicAuthorizationManager.matches("a+b", "a+b")).isTrue(); // literal, not a regex
        assertThat(TopicAuthorizationManager.matches("a+b", "aab")).isFalse();
        assertThatIllegalArgumentException().isThrownBy(() -> TopicAuthorizationManager.matches("or*ders", "orders"));
        assertThatIllegalArgumentException().isThrownBy(() -> TopicAuthorizationManager.matches("a.>.b", "a.x.b"));
    }
}
