package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.springframework.util.MultiValueMap;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * The query of a handshake, read the same way on every web stack: {@code topic} percent-decoded, not blank, at most
 * {@value #MAX_TOPIC_LENGTH} characters; {@code since} (optional) at most {@value TopicOffset#MAX_LENGTH}
 * characters: an offset token the client resumes after (one that is not a valid offset gets a reset notice, not a
 * refusal).
 *
 * @param topic the decoded topic, or {@code null} when the handshake must be refused
 * @param since the offset to resume after, or {@code null}
 * @param refusal why the handshake is refused (HTTP 400), or {@code null}
 */
record TopicQuery(@Nullable String topic, @Nullable String since, @Nullable String refusal) {

    static final int MAX_TOPIC_LENGTH = 1024;

    static TopicQuery of(URI uri) {
        MultiValueMap<String, String> params = UriComponentsBuilder.fromUri(uri).build().getQueryParams();
        String raw = params.getFirst("topic");
        String topic = raw == null ? "" : UriUtils.decode(raw, StandardCharsets.UTF_8);
        if (topic.isBlank()) {
            return refused("missing topic: connect to " + uri.getPath() + "?topic=NAME");
        }
        if (topic.length() > MAX_TOPIC_LENGTH) {
            return refused("topic longer than " + MAX_TOPIC_LENGTH + " characters");
        }
        String rawSince = params.getFirst("since");
        String since = rawSince == null || rawSince.isEmpty() ? null : UriUtils.decode(rawSince, StandardCharsets.UTF_8);
        if (since != null && since.length() > TopicOffset.MAX_LENGTH) {
            return refused("since longer than " + TopicOffset.MAX_LENGTH + " characters");
        }
        return new TopicQuery(topic, since, null);
    }

    private static TopicQuery refused(String why) {
        return new TopicQuery(null, null, why);
    }
}
