package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.bus.TopicPattern;
import io.github.tinywasm.wasi.http.HttpConfig;
import io.github.tinywasm.wasi.http.PathPattern;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginProvider;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.BindingResult;
import org.springframework.validation.Errors;
import org.springframework.validation.FieldError;
import org.springframework.validation.Validator;

/**
 * Checks every value of a bound {@link WasiProperties} and reports each bad one, not only the first, as a field
 * error carrying the property's dashed name, its origin and its value as written ({@code -1s}, not the bound
 * {@code PT-1S}), so that Spring Boot's {@code BindValidationFailureAnalyzer} prints them like its own.
 *
 * <p>Boot validates a constructor-bound properties record that implements {@link Validator} itself, but prints the
 * bound value and finds no origin for nested properties ({@code mailbox.capacity}); hence this validator, run by
 * {@link WasiPropertiesBindHandlerAdvisor} with the configuration properties it saw bound.
 */
final class WasiPropertiesValidator implements Validator {

    private static final long MAX_MEMORY = 65536L * WasiConfig.PAGE_SIZE;
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Function<String, @Nullable ConfigurationProperty> bound;

    /** @param bound the bound configuration property of a name relative to {@code tinywasm.wasi}, if any */
    WasiPropertiesValidator(Function<String, @Nullable ConfigurationProperty> bound) {
        this.bound = bound;
    }

    @Override
    public boolean supports(Class<?> type) {
        return WasiProperties.class.isAssignableFrom(type);
    }

    @Override
    public void validate(Object target, Errors errors) {
        WasiProperties p = (WasiProperties) target;
        Checks c = new Checks(errors);
        c.check(ModulesLocation.isValid(p.modulesDir()), "modules-dir", p.modulesDir(),
                "must be a folder (a path, or file: followed by a path) or classpath: followed by a package path");
        c.positive("watch-quiet-period", p.watchQuietPeriod());
        c.positive("watch-poll-interval", p.watchPollInterval());
        c.notNegative("drain-timeout", p.drainTimeout());
        c.notNegative("call-timeout", p.callTimeout());
        c.check(p.cache().maxSize().toBytes() >= 0, "cache.max-size", p.cache().maxSize(), "must not be negative");
        c.check(p.cache().memoryEntries() >= 0, "cache.memory-entries", p.cache().memoryEntries(), "must be 0 (none) or more");
        c.check(p.cache().memoryMaxSize().toBytes() >= 0, "cache.memory-max-size", p.cache().memoryMaxSize(),
                "must not be negative");
        c.check(!p.deploy().probation().isNegative(), "deploy.probation", p.deploy().probation(), "must not be negative");
        c.check(p.deploy().maxTraps() >= 1, "deploy.max-traps", p.deploy().maxTraps(), "must be at least 1");
        c.check(p.quarantine().after() >= 0, "quarantine.after", p.quarantine().after(), "must be 0 (never) or more");
        c.check(p.deadLetterTopic().isEmpty() || !p.deadLetterTopic().isBlank(), "dead-letter-topic", p.deadLetterTopic(),
                "must be a topic, or empty for none");
        c.check(p.workerThreads() >= 0, "worker-threads", p.workerThreads(), "must be 0 (one per core) or more");
        c.check(p.subscriberThreads() >= 0, "subscriber-threads", p.subscriberThreads(), "must be 0 (one per core) or more");
        long memory = p.maxMemory().toBytes();
        c.check(memory == 0 || (memory >= WasiConfig.PAGE_SIZE && memory <= MAX_MEMORY), "max-memory", p.maxMemory(),
                "must be 0 (no limit) or between 64KB and 4GB");
        long moduleSize = p.maxModuleSize().toBytes();
        c.check(moduleSize >= 8 && moduleSize <= Integer.MAX_VALUE - 8, "max-module-size", p.maxModuleSize(),
                "must be between 8B and 2GB");
        c.check(p.mailbox().capacity() >= 1, "mailbox.capacity", p.mailbox().capacity(), "must be at least 1");
        c.notNegative("mailbox.publish-timeout", p.mailbox().publishTimeout());
        WasiProperties.WebSocket ws = p.websocket();
        c.check(ws.path().startsWith("/") && !ws.path().contains("?"), "websocket.path", ws.path(),
                "must start with '/' and have no query");
        c.intSize("websocket.send-buffer-size", ws.sendBufferSize());
        c.positive("websocket.send-time-limit", ws.sendTimeLimit());
        c.intSize("websocket.max-inbound-message-size", ws.maxInboundMessageSize());
        c.check(ws.history().size() >= 0 && ws.history().size() <= 1_000_000, "websocket.history.size",
                ws.history().size(), "must be between 0 and 1000000");
        WasiProperties.Cluster cluster = p.cluster();
        String node = cluster.nodeId();
        c.check(node == null || node.isEmpty() || NODE_ID.matcher(node).matches(), "cluster.node-id", String.valueOf(node),
                "must be at most 64 letters, digits and . _ - :");
        eachParses(c, "cluster.topics", cluster.topics(), TopicPattern::of,
                "must be dot-separated segments, * for one segment, > (last) for the rest");
        c.check(cluster.outboxCapacity() >= 1, "cluster.outbox-capacity", cluster.outboxCapacity(), "must be at least 1");
        c.check(cluster.redis().busStreamLength() >= 1, "cluster.redis.bus-stream-length",
                cluster.redis().busStreamLength(), "must be at least 1");
        WasiProperties.Http http = p.http();
        c.check(http.path().startsWith("/") && http.path().length() > 1 && !http.path().endsWith("/")
                && http.path().chars().noneMatch(ch -> ch == '?' || ch == '*' || ch == '{' || ch == '}'), "http.path",
                http.path(), "must start with '/', not end with '/', and have no query or pattern");
        c.intSize("http.max-request-size", http.maxRequestSize());
        c.intSize("http.max-response-size", http.maxResponseSize());
        // map keys in brackets: a module name may hold dots ("chat.v2") or anything else a user typed
        http.middleware().keySet().forEach(name -> {
            String key = "http.middleware[" + name + "]";
            // set as NAME=RULE, or as NAME.rule / NAME.order: the origin is that of whichever was written
            String written = bound.apply(key) != null ? key : bound.apply(key + ".rule") != null ? key + ".rule" : key + ".order";
            c.check(MODULE_NAME.matcher(name).matches(), key, written, name,
                    "must be a module name: letters, digits, '.', '_' and '-', starting with a letter or digit");
        });
        p.modules().forEach((name, m) -> c.check(m.http().poolSize() >= 1 && m.http().poolSize() <= HttpConfig.MAX_POOL_SIZE,
                "modules[" + name + "].http.pool-size", m.http().poolSize(), "must be between 1 and " + HttpConfig.MAX_POOL_SIZE));
        p.modules().forEach((name, m) -> {
            patterns(c, "modules[" + name + "].publish", m.publish());
            patterns(c, "modules[" + name + "].subscribe", m.subscribe());
            patterns(c, "modules[" + name + "].broadcast", m.broadcast());
            paths(c, "modules[" + name + "].http.paths", m.http().paths());
        });
    }

    /** Each HTTP path pattern must parse ({@link PathPattern}). */
    private void paths(Checks c, String key, @Nullable List<String> patterns) {
        eachParses(c, key, patterns, PathPattern::of, "must be a path pattern: '/'-separated segments starting with '/',"
                + " '*' for one segment, a final '**' for the rest (no empty, '.' or '..' segment)");
    }

    /** Each capability pattern must parse ({@link TopicPattern}). */
    private void patterns(Checks c, String key, @Nullable List<String> patterns) {
        eachParses(c, key, patterns, TopicPattern::of,
                "must be a topic pattern: dot-separated segments, '*' for one segment, a final '>' for the rest");
    }

    /** Checks that {@code parse} accepts each of {@code values}, reported as {@code key[i]} with {@code rule}. */
    private static void eachParses(Checks c, String key, @Nullable List<String> values, Consumer<String> parse,
            String rule) {
        if (values == null) {
            return;
        }
        for (int i = 0; i < values.size(); i++) {
            String value = values.get(i);
            boolean ok;
            try {
                parse.accept(value);
                ok = true;
            } catch (IllegalArgumentException | NullPointerException e) {
                ok = false;
            }
            c.check(ok, key + "[" + i + "]", value, rule);
        }
    }

    private final class Checks {

        private final Errors errors;

        Checks(Errors errors) {
            this.errors = errors;
        }

        void positive(String name, Duration d) {
            check(!d.isNegative() && !d.isZero(), name, d, "must be a positive duration");
        }

        void notNegative(String name, Duration d) {
            check(!d.isNegative(), name, d, "must not be negative");
        }

        void intSize(String name, DataSize size) {
            check(size.toBytes() > 0 && size.toBytes() <= Integer.MAX_VALUE, name, size, "must be between 1B and 2GB");
        }

        void check(boolean ok, String name, Object value, String rule) {
            check(ok, name, name, value, rule);
        }

        /** @param written the property that holds the value as written (its origin), when not {@code name} itself */
        void check(boolean ok, String name, String written, Object value, String rule) {
            if (ok) {
                return;
            }
            ConfigurationProperty property = bound.apply(written);
            Object asWritten = property != null && written.equals(name) ? property.getValue() : value;
            Origin origin = property != null ? property.getOrigin() : null;
            if (errors instanceof BindingResult result) {
                result.addError(new PropertyError(errors.getObjectName(), name, asWritten, origin, rule));
            } else {
                errors.reject("tinywasm.wasi.invalid", "tinywasm.wasi." + name + " " + rule + " (was " + asWritten + ")");
            }
        }
    }

    /** A field error that knows where its value came from; Boot's failure analysis prints the origin. */
    static final class PropertyError extends FieldError implements OriginProvider {

        private final @Nullable Origin origin;

        PropertyError(String objectName, String property, Object value, @Nullable Origin origin, String rule) {
            super(objectName, property, value, false, new String[] {"tinywasm.wasi.invalid"}, null, rule);
            this.origin = origin;
        }

        @Override
        public @Nullable Origin getOrigin() {
            return origin;
        }
    }
}
