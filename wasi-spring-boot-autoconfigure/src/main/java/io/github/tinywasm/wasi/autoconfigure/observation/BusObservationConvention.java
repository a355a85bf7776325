package io.github.tinywasm.wasi.autoconfigure.observation;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the bus observations. Define a bean of this type to change them; the default is
 * {@link DefaultBusObservationConvention}.
 */
public interface BusObservationConvention extends ObservationConvention<Observation.Context> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof BusObservationContext;
    }
}
