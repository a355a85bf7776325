package io.github.tinywasm.wasi.policy;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.internal.MessageAccess;
import java.util.Map;

/**
 * Dead letters: a message a module could not handle, published on the dead-letter topic with the module's name as its
 * source, headers {@value #MODULE}, {@value #TOPIC} and {@value #ERROR}, and the original payload (shared, not
 * copied). A message already on the dead-letter topic is never dead-lettered again, so a module subscribed to that
 * topic and failing on what it receives cannot make a loop. Immutable and thread-safe.
 */
public final class DeadLetters {

    /** Header: the module that failed on the message. */
    public static final String MODULE = "module";
    /** Header: the topic the message was published on. */
    public static final String TOPIC = "topic";
    /** Header: why the module failed on it. */
    public static final String ERROR = "error";

    private final String topic;

    /** @param topic the dead-letter topic, or {@code null} for none */
    public DeadLetters(String topic) {
        this.topic = topic;
    }

    /** The dead-letter topic, or {@code null} when there is none. */
    public String topic() {
        return topic;
    }

    /** Whether {@code message} may become a dead letter: there is a topic, and the message is not on it already. */
    public boolean accepts(Message message) {
        return topic != null && !topic.equals(message.topic());
    }

    /** The dead letter of {@code message}, which {@code module} failed on with {@code error}. */
    public Message letter(String module, Message message, String error) {
        return MessageAccess.fromGuest(module, topic, MessageAccess.payloadArray(message),
                Map.of(MODULE, module, TOPIC, message.topic(), ERROR, error));
    }
}
