package io.github.tinywasm.wasi.autoconfigure.security;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessRequest;
import io.github.tinywasm.wasi.bus.TopicPattern;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authorization.AuthenticatedAuthorizationManager;
import org.springframework.security.authorization.AuthorityAuthorizationManager;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;

/**
 * An {@link AuthorizationManager} for WebSocket topics, like Spring Security's request matchers: the first rule
 * whose topic pattern matches decides; a topic no rule matches is denied.
 *
 * <pre>{@code
 * @Bean
 * AuthorizationManager<TopicAccessRequest> topicAuthorization() {
 *     return TopicAuthorizationManager.builder()
 *             .topics("public.>").permitAll()
 *             .topics("admin.*").hasRole("ADMIN")
 *             .anyTopic().authenticated()
 *             .build();
 * }
 * }</pre>
 *
 * <p>Patterns are the engine's {@link TopicPattern}s (the same as module capabilities): dot-separated segments,
 * {@code *} matches one segment, {@code >} (last) matches one or more; any other segment matches itself. Immutable and
 * thread-safe once built.
 */
public final class TopicAuthorizationManager implements AuthorizationManager<TopicAccessRequest> {

    private final List<Rule> rules;

    private TopicAuthorizationManager(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public @Nullable AuthorizationResult authorize(Supplier<? extends @Nullable Authentication> authentication,
            TopicAccessRequest request) {
        for (Rule rule : rules) {
            if (rule.pattern().matches(request.topic())) {
                return rule.manager().authorize(authentication, request);
            }
        }
        return new AuthorizationDecision(false);
    }

    /** Whether {@code pattern} matches {@code topic}; see the class comment for the syntax. */
    static boolean matches(String pattern, String topic) {
        return TopicPattern.of(pattern).matches(topic);
    }

    private record Rule(TopicPattern pattern, AuthorizationManager<TopicAccessRequest> manager) {}

    /** Builds a {@link TopicAuthorizationManager}: rules in order, the first match decides. */
    public static final class Builder {

        private final List<Rule> rules = new ArrayList<>();

        private Builder() {}

        /** Rules for topics matching any of {@code patterns}. */
        public Access topics(String... patterns) {
            List<TopicPattern> compiled = new ArrayList<>();
            for (String p : patterns) {
                compiled.add(TopicPattern.of(p));
            }
            return new Access(this, compiled);
        }

        /** Rule for every topic no earlier rule matched. */
        public Access anyTopic() {
            return new Access(this, List.of(TopicPattern.any()));
        }

        public TopicAuthorizationManager build() {
            return new TopicAuthorizationManager(rules);
        }
    }

    /** What the topics of one rule require. */
    public static final class Access {

        private final Builder builder;
        private final List<TopicPattern> patterns;

        private Access(Builder builder, List<TopicPattern> patterns) {
            this.builder = builder;
            this.patterns = patterns;
        }

        public Builder permitAll() {
            return access((a, r) -> new AuthorizationDecision(true));
        }

        public Builder denyAll() {
            return access((a, r) -> new AuthorizationDecision(false));
        }

        public Builder authenticated() {
            return access(AuthenticatedAuthorizationManager.authenticated());
        }

        public Builder hasRole(String role) {
            return access(AuthorityAuthorizationManager.hasRole(role));
        }

        public Builder hasAnyRole(String... roles) {
            return access(AuthorityAuthorizationManager.hasAnyRole(roles));
        }

        public Builder hasAuthority(String authority) {
            return access(AuthorityAuthorizationManager.hasAuthority(authority));
        }

        /** Any {@link AuthorizationManager}, for example one that looks at the request's headers or address. */
        public Builder access(AuthorizationManager<TopicAccessRequest> manager) {
            for (TopicPattern p : patterns) {
                builder.rules.add(new Rule(p, manager));
            }
            return builder;
        }
    }
}
