package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * The {@code topic} query parameter of a handshake, read the same way on every web stack: percent-decoded, not
 * blank, at most {@value #MAX_TOPIC_LENGTH} characters.
 *
 * @param topic the decoded topic, or {@code null} when the handshake must be refused
 * @param refusal why the handshake is refused (HTTP 400), or {@code null}
 */
record TopicQuery(@Nullable String topic, @Nullable String refusal) {

    static final int MAX_TOPIC_LENGTH = 1024;

    static TopicQuery of(URI uri) {
        String raw = UriComponentsBuilder.fromUri(uri).build().getQueryParams().getFirst("topic");
        String topic = raw == null ? "" : UriUtils.decode(raw, StandardCharsets.UTF_8);
        if (topic.isBlank()) {
            return new TopicQuery(null, "missing topic: connect to " + uri.getPath() + "?topic=NAME");
        }
        if (topic.length() > MAX_TOPIC_LENGTH) {
            return new TopicQuery(null, "topic longer than " + MAX_TOPIC_LENGTH + " characters");
        }
        return new TopicQuery(topic, null);
    }
}
