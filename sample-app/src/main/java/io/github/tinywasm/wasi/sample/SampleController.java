package io.github.tinywasm.wasi.sample;

import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.util.Map;
import java.util.Set;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * What the page sends: {@code POST /api/publish/{topic}} publishes the request body on the bus, for the
 * topics the sample's guests listen to; the guests answer over {@code /ws?topic=}. {@code GET /api/users}
 * returns the roster the application last heard from the users module (through an ApplicationEvent).
 */
@RestController
class SampleController {

    /** Topics the page may publish to: the guests' inputs, nothing else. */
    static final Set<String> INPUT_TOPICS = Set.of("chat.in", "users.requests", "echo.in");
    private static final int MAX_BODY = 512;

    private final WasiPublisher publisher;
    private final RosterListener roster;

    SampleController(WasiPublisher publisher, RosterListener roster) {
        this.publisher = publisher;
        this.roster = roster;
    }

    @PostMapping("/api/publish/{topic}")
    ResponseEntity<Map<String, Object>> publish(@PathVariable String topic, @RequestBody(required = false) String body) {
        if (!INPUT_TOPICS.contains(topic)) {
            return ResponseEntity.badRequest().body(Map.of("error", "unknown topic '" + topic + "'", "topics", INPUT_TOPICS));
        }
        String text = body == null ? "" : body.strip();
        if (text.isEmpty() || text.length() > MAX_BODY) {
            return ResponseEntity.badRequest().body(Map.of("error", "send 1 to " + MAX_BODY + " characters"));
        }
        publisher.publish(topic, text);
        return ResponseEntity.accepted().body(Map.of("topic", topic, "published", text));
    }

    @GetMapping("/api/users")
    Map<String, Object> users() {
        return Map.of("roster", roster.last());
    }
}
