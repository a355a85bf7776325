package io.github.tinywasm.wasi.autoconfigure.observation;

import io.github.tinywasm.wasi.Message;
import io.micrometer.observation.transport.ReceiverContext;
import org.jspecify.annotations.Nullable;

/**
 * Context of {@code tinywasm.bus.process}: one subscriber (a module, or a Java subscriber) handling one message. The
 * tracer reads the parent trace context from the message's headers.
 */
public class BusProcessContext extends ReceiverContext<Message> implements BusObservationContext {

    private final @Nullable String module;
    private final Message message;

    public BusProcessContext(@Nullable String module, Message message) {
        super((carrier, key) -> carrier.header(key));
        this.module = module;
        this.message = message;
        setCarrier(message);
        setRemoteServiceName("tinywasm");
    }

    public Message message() {
        return message;
    }

    @Override
    public String operation() {
        return "process";
    }

    @Override
    public String topic() {
        return message.topic();
    }

    @Override
    public @Nullable String module() {
        return module;
    }
}
