package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.Message;
import io.micrometer.observation.transport.SenderContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Context of {@code tinywasm.bus.publish}: a message being published. Its carrier is the set of headers the tracer
 * injects (W3C {@code traceparent}, for example); they travel in the message's envelope.
 */
public class BusPublishContext extends SenderContext<Map<String, String>> implements BusObservationContext {

    private final Message message;

    public BusPublishContext(Message message) {
        super((carrier, key, value) -> {
            if (carrier != null) {
                carrier.put(key, value);
            }
        });
        this.message = message;
        setCarrier(new LinkedHashMap<>());
        setRemoteServiceName("tinywasm");
    }

    /** The message as published, before the headers of this context are added. */
    public Message message() {
        return message;
    }

    /** The headers to add to the message's envelope. */
    public Map<String, String> headers() {
        Map<String, String> carrier = getCarrier();
        return carrier != null ? carrier : Map.of();
    }

    @Override
    public String operation() {
        return "publish";
    }

    @Override
    public String topic() {
        return message.topic();
    }

    @Override
    public @Nullable String module() {
        return message.source();
    }
}
