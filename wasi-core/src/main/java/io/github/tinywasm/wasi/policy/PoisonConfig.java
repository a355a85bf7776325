package io.github.tinywasm.wasi.policy;

/**
 * What happens to messages a module fails on.
 *
 * @param deadLetterTopic where a message a module trapped or timed out on is published (with headers
 *     {@link DeadLetters#MODULE}, {@link DeadLetters#TOPIC}, {@link DeadLetters#ERROR}; payload: the original), and
 *     where a quarantined module's messages go; {@code null} or empty: none
 * @param quarantineAfter failures in a row (traps or timeouts on messages) that quarantine a module with no version on
 *     probation to roll back to; 0: never
 */
public record PoisonConfig(String deadLetterTopic, int quarantineAfter) {

    /** Dead letters on {@code wasi.dead-letter}; no quarantine. */
    public static final PoisonConfig DEFAULTS = new PoisonConfig("wasi.dead-letter", 0);

    public PoisonConfig {
        if (deadLetterTopic != null && deadLetterTopic.isEmpty()) {
            deadLetterTopic = null;
        }
        if (quarantineAfter < 0) {
            throw new IllegalArgumentException("quarantineAfter must be 0 (never) or more, was " + quarantineAfter);
        }
    }
}
