package io.github.tinywasm.wasi.autoconfigure.observation;

import io.micrometer.common.docs.KeyName;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.docs.ObservationDocumentation;

/** The observations of tinywasm-wasi, their names and keys. */
public enum BusObservationDocumentation implements ObservationDocumentation {

    /** A message published on the bus, by the application or by a guest (kind PRODUCER). */
    PUBLISH {
        @Override
        public String getName() {
            return "tinywasm.bus.publish";
        }
    },

    /** One subscriber (a module, or a Java subscriber such as the event bridge) handling one message (CONSUMER). */
    PROCESS {
        @Override
        public String getName() {
            return "tinywasm.bus.process";
        }
    },

    /** A guest's ws_broadcast to the WebSocket clients of a topic. */
    BROADCAST {
        @Override
        public String getName() {
            return "tinywasm.websocket.broadcast";
        }
    };

    /** The observation's name: every constant has one. */
    @Override
    public abstract String getName();

    @Override
    public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
        return DefaultBusObservationConvention.class;
    }

    @Override
    public KeyName[] getLowCardinalityKeyNames() {
        return LowCardinalityKeys.values();
    }

    @Override
    public KeyName[] getHighCardinalityKeyNames() {
        return HighCardinalityKeys.values();
    }

    /** Keys with few values: tags of the timers, too. */
    public enum LowCardinalityKeys implements KeyName {
        /** Always {@code tinywasm}. */
        MESSAGING_SYSTEM("messaging.system"),
        /** {@code publish}, {@code process} or {@code broadcast}. */
        MESSAGING_OPERATION("messaging.operation"),
        /** The module that publishes, handles or broadcasts; {@code none} for the application. */
        MODULE("tinywasm.module"),
        /** {@code none}, or the simple class name of the error. */
        ERROR("error");

        private final String key;

        LowCardinalityKeys(String key) {
            this.key = key;
        }

        @Override
        public String asString() {
            return key;
        }
    }

    /** Keys with unbounded values: on spans, never on meters. */
    public enum HighCardinalityKeys implements KeyName {
        /** The topic. */
        TOPIC("messaging.destination.name");

        private final String key;

        HighCardinalityKeys(String key) {
            this.key = key;
        }

        @Override
        public String asString() {
            return key;
        }
    }
}
