package io.github.tinywasm.wasi.internal;

import io.github.tinywasm.wasi.Message;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Engine-internal access to {@link Message}'s payload array and its no-copy factory, for the engine's packages
 * ({@code bus}, {@code module}, ...). Not an API: applications use {@link Message}'s public methods, which copy.
 *
 * <p>Why a bridge and not public methods: a {@code Message} promises that nobody can change what another
 * subscriber sees; a public no-copy accessor would break that promise for everyone to save the engine one copy
 * per delivery. {@link Message} installs the implementation when its class is initialised.
 */
public final class MessageAccess {

    /** What {@link Message} lets the engine do. */
    public interface Bridge {
        byte[] payloadArray(Message message);

        Message fromGuest(String module, String topic, byte[] payload, Map<String, String> headers);
    }

    private static volatile @Nullable Bridge bridge;

    private MessageAccess() {}

    /** Called once, by {@link Message}'s static initialiser. */
    public static void install(Bridge b) {
        if (bridge != null) {
            throw new IllegalStateException("MessageAccess is installed by Message itself");
        }
        bridge = b;
    }

    /** The payload array itself (never hand it out, never change it). */
    public static byte[] payloadArray(Message message) {
        // installed by Message's static initialiser, which ran before any Message existed
        return Objects.requireNonNull(bridge, "bridge").payloadArray(message);
    }

    /** A message a guest published; {@code payload} was freshly read from guest memory and is not copied. */
    public static Message fromGuest(String module, String topic, byte[] payload, Map<String, String> headers) {
        Bridge b = bridge;
        if (b == null) {
            Message.requireTopic(topic); // initialises Message, which installs the bridge
            b = Objects.requireNonNull(bridge, "bridge");
        }
        return b.fromGuest(module, topic, payload, headers);
    }
}
