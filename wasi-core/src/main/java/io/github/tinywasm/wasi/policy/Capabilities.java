package io.github.tinywasm.wasi.policy;

import io.github.tinywasm.wasi.bus.TopicPattern;
import java.util.List;

/**
 * What one module may do: the topics it may publish to, subscribe to and broadcast to WebSocket clients on, as
 * {@link TopicPattern}s ({@code tinywasm.wasi.modules.<name>.publish|subscribe|broadcast}), and the HTTP it may
 * receive ({@link HttpAccess}, {@code tinywasm.wasi.modules.<name>.http.enabled|paths}). {@code null} for a call means
 * "any topic" (the default, the original's behaviour); an empty list means none.
 *
 * @param publish patterns of topics it may {@code publish} to, or {@code null} for any
 * @param subscribe patterns of topics it may {@code subscribe} to, or {@code null} for any
 * @param broadcast patterns of topics it may {@code ws_broadcast} to, or {@code null} for any
 * @param http the HTTP requests it may receive
 */
public record Capabilities(List<TopicPattern> publish, List<TopicPattern> subscribe, List<TopicPattern> broadcast,
        HttpAccess http) {

    /** Everything allowed. */
    public static final Capabilities ALL = new Capabilities(null, null, null, HttpAccess.ALL);

    public Capabilities {
        publish = publish != null ? List.copyOf(publish) : null;
        subscribe = subscribe != null ? List.copyOf(subscribe) : null;
        broadcast = broadcast != null ? List.copyOf(broadcast) : null;
        http = http != null ? http : HttpAccess.ALL;
    }

    /** Bus capabilities, any HTTP. */
    public Capabilities(List<TopicPattern> publish, List<TopicPattern> subscribe, List<TopicPattern> broadcast) {
        this(publish, subscribe, broadcast, HttpAccess.ALL);
    }

    /**
     * Capabilities from pattern texts ({@code null}: any topic).
     *
     * @throws IllegalArgumentException naming a bad pattern
     */
    public static Capabilities of(List<String> publish, List<String> subscribe, List<String> broadcast) {
        return new Capabilities(parse(publish), parse(subscribe), parse(broadcast));
    }

    /** These capabilities with other HTTP access. */
    public Capabilities withHttp(HttpAccess http) {
        return new Capabilities(publish, subscribe, broadcast, http);
    }

    private static List<TopicPattern> parse(List<String> patterns) {
        return patterns != null ? patterns.stream().map(TopicPattern::of).toList() : null;
    }

    /** A call a module makes on a topic, subject to its capabilities. */
    public enum Call {
        PUBLISH("publish"),
        SUBSCRIBE("subscribe"),
        BROADCAST("broadcast");

        private final String property;

        Call(String property) {
            this.property = property;
        }

        /** The property that allows it: {@code tinywasm.wasi.modules.<name>.<property>}. */
        public String property() {
            return property;
        }
    }

    /** Whether the module may make {@code call} on {@code topic}. */
    public boolean allows(Call call, String topic) {
        List<TopicPattern> patterns = switch (call) {
            case PUBLISH -> publish;
            case SUBSCRIBE -> subscribe;
            case BROADCAST -> broadcast;
        };
        if (patterns == null) {
            return true;
        }
        for (TopicPattern p : patterns) {
            if (p.matches(topic)) {
                return true;
            }
        }
        return false;
    }

    /** The patterns that allow {@code call}, as written, for an error message. */
    public String describe(Call call) {
        List<TopicPattern> patterns = switch (call) {
            case PUBLISH -> publish;
            case SUBSCRIBE -> subscribe;
            case BROADCAST -> broadcast;
        };
        return patterns == null ? "any topic" : patterns.toString();
    }

    /** Whether everything is allowed. */
    public boolean unrestricted() {
        return publish == null && subscribe == null && broadcast == null && http.unrestricted();
    }
}
