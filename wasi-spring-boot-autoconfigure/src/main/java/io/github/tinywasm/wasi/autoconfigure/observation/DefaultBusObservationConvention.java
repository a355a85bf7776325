package io.github.tinywasm.wasi.autoconfigure.observation;

import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

/**
 * The default names and key values: see {@link BusObservationDocumentation}. Low-cardinality keys only (they become
 * meter tags): {@code messaging.system=tinywasm}, {@code messaging.operation}, {@code tinywasm.module} (the module,
 * or {@code none} for the application) and {@code error} ({@code none} or the exception's simple class name); the
 * topic is high-cardinality ({@code messaging.destination.name}), on spans only.
 */
public class DefaultBusObservationConvention implements BusObservationConvention {

    /** Value of {@code tinywasm.module} and {@code error} when there is none. */
    public static final String NONE = "none";

    /** Convention of {@code tinywasm.bus.publish}. */
    public static final DefaultBusObservationConvention PUBLISH =
            new DefaultBusObservationConvention(BusObservationDocumentation.PUBLISH.getName());

    /** Convention of {@code tinywasm.bus.process}. */
    public static final DefaultBusObservationConvention PROCESS =
            new DefaultBusObservationConvention(BusObservationDocumentation.PROCESS.getName());

    /** Convention of {@code tinywasm.websocket.broadcast}. */
    public static final DefaultBusObservationConvention BROADCAST =
            new DefaultBusObservationConvention(BusObservationDocumentation.BROADCAST.getName());

    private final String name;

    /** @param name the observation's name (the timer's name, too) */
    public DefaultBusObservationConvention(String name) {
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public @Nullable String getContextualName(Observation.Context context) {
        BusObservationContext bus = (BusObservationContext) context;
        return bus.topic() + " " + bus.operation();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(Observation.Context context) {
        BusObservationContext bus = (BusObservationContext) context;
        Throwable error = context.getError();
        String module = bus.module();
        return KeyValues.of(
                BusObservationDocumentation.LowCardinalityKeys.MESSAGING_SYSTEM.withValue("tinywasm"),
                BusObservationDocumentation.LowCardinalityKeys.MESSAGING_OPERATION.withValue(bus.operation()),
                BusObservationDocumentation.LowCardinalityKeys.MODULE.withValue(module != null ? module : NONE),
                BusObservationDocumentation.LowCardinalityKeys.ERROR.withValue(
                        error != null ? error.getClass().getSimpleName() : NONE));
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(Observation.Context context) {
        return KeyValues.of(BusObservationDocumentation.HighCardinalityKeys.TOPIC
                .withValue(((BusObservationContext) context).topic()));
    }
}
