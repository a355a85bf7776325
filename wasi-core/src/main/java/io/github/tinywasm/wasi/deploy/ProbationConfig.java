package io.github.tinywasm.wasi.deploy;

import java.time.Duration;
import java.util.Objects;

/**
 * Probation of new versions ({@link Probation}).
 *
 * @param probation how long after a swap a new version is on probation; zero disables automatic rollback
 * @param maxTraps traps or timeouts on its messages or HTTP requests within the probation that roll it back
 */
public record ProbationConfig(Duration probation, int maxTraps) {

    /** Off: a new version is never rolled back by itself. */
    public static final ProbationConfig OFF = new ProbationConfig(Duration.ZERO, 3);

    public ProbationConfig {
        Objects.requireNonNull(probation, "probation");
        if (probation.isNegative()) {
            throw new IllegalArgumentException("probation must not be negative, was " + probation);
        }
        if (maxTraps < 1) {
            throw new IllegalArgumentException("maxTraps must be at least 1, was " + maxTraps);
        }
    }
}
