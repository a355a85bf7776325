package io.github.tinywasm.wasi.autoconfigure.observation;

import org.jspecify.annotations.Nullable;

/** What every bus observation context tells a {@link BusObservationConvention}. */
public interface BusObservationContext {

    /** {@code publish}, {@code process} or {@code broadcast}. */
    String operation();

    /** The topic (bus topic, or WebSocket topic of a broadcast). */
    String topic();

    /**
     * The module that publishes, handles or broadcasts; {@code null} when it is the application (a publish from
     * Java, a Java subscriber such as the event bridge).
     */
    @Nullable String module();
}
