package io.github.tinywasm.wasi.autoconfigure.security;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessRequest;
import io.github.tinywasm.wasi.autoconfigure.websocket.WasiWebSocketAutoConfiguration;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.ResolvableType;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.security.authorization.AuthorizationManager;

/**
 * With Spring Security, an application that defines an {@code AuthorizationManager<TopicAccessRequest>} bean (for
 * example a {@link TopicAuthorizationManager}) gets a {@link TopicAccessPolicy} backed by it: WebSocket handshakes
 * for topics it denies get 403. An application's own {@link TopicAccessPolicy} bean still wins. Web applications
 * only: the policy guards the WebSocket endpoint.
 */
@AutoConfiguration(before = WasiWebSocketAutoConfiguration.class)
@ConditionalOnClass(value = AuthorizationManager.class, name = "org.springframework.http.HttpHeaders")
@ConditionalOnWebApplication
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
public final class WasiSecurityAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(TopicAccessPolicy.class)
    @Conditional(OnTopicAuthorizationManagerCondition.class)
    AuthorizationManagerTopicAccessPolicy topicAccessPolicy(AuthorizationManager<TopicAccessRequest> topicAuthorization) {
        return new AuthorizationManagerTopicAccessPolicy(topicAuthorization);
    }

    /** Matches when a bean of type {@code AuthorizationManager<TopicAccessRequest>} is defined. */
    static final class OnTopicAuthorizationManagerCondition implements Condition {

        private static final ResolvableType TYPE = ResolvableType.forClassWithGenerics(AuthorizationManager.class,
                TopicAccessRequest.class);

        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            ConfigurableListableBeanFactory beanFactory = context.getBeanFactory();
            return beanFactory != null && beanFactory.getBeanNamesForType(TYPE, true, false).length > 0;
        }
    }
}
