package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Message;
import org.springframework.context.ApplicationEvent;

/**
 * A message a guest module published, as an ApplicationEvent. Receive it with
 * {@code @EventListener}; filter by topic with {@code @EventListener(condition = "#event.topic == 'orders'")}.
 *
 * <p>Published on a bus worker thread, in the order the guests published. Only guest messages become events:
 * what the application publishes is never echoed back.
 */
public class WasiMessageEvent extends ApplicationEvent {

    private final transient Message message;

    public WasiMessageEvent(Object source, Message message) {
        super(source);
        this.message = message;
    }

    /** The bus message. */
    public Message getMessage() {
        return message;
    }

    public String getTopic() {
        return message.topic();
    }

    /** Name of the module that published it. */
    public String getModule() {
        return message.source();
    }

    /** A copy of the payload. */
    public byte[] getPayload() {
        return message.payload();
    }

    /** The payload decoded as UTF-8. */
    public String getPayloadAsString() {
        return message.payloadAsString();
    }

    @Override
    public String toString() {
        return "WasiMessageEvent[topic=" + getTopic() + ", module=" + getModule() + ", " + message.payloadSize() + " bytes]";
    }
}
