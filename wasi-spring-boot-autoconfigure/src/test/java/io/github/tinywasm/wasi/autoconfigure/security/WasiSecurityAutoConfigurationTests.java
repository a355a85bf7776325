package io.github.tinywasm.wasi.autoconfigure.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessRequest;
import io.github.tinywasm.wasi.autoconfigure.websocket.WasiWebSocketAutoConfiguration;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.core.authority.AuthorityUtils;

/** When the Spring Security policy applies, and when it backs off. */
class WasiSecurityAutoConfigurationTests {

    @TempDir
    Path modules;

    private WebApplicationContextRunner runner() {
        return new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(WasiSecurityAutoConfiguration.class,
                        WasiWebSocketAutoConfiguration.class, WasiAutoConfiguration.class))
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules);
    }

    @Test
    void anAuthorizationManagerForTopicsBecomesThePolicy() {
        runner().withUserConfiguration(Manager.class).run(context -> {
            TopicAccessPolicy policy = context.getBean(TopicAccessPolicy.class);
            assertThat(policy).isInstanceOf(AuthorizationManagerTopicAccessPolicy.class);
            var admin = new UsernamePasswordAuthenticationToken("ann", "x", AuthorityUtils.createAuthorityList("ROLE_ADMIN"));
            var user = new UsernamePasswordAuthenticationToken("bob", "x", AuthorityUtils.createAuthorityList("ROLE_USER"));
            assertThat(policy.allows(request("admin.ops", admin))).isTrue();
            assertThat(policy.allows(request("admin.ops", user))).isFalse();
            assertThat(policy.allows(request("admin.ops", null))).isFalse();
            assertThat(policy.allows(request("public.news", null))).isTrue(); // anonymous
        });
    }

    @Test
    void backsOffWithoutAManagerWithTheApplicationsPolicyOrWithoutSpringSecurity() {
        runner().run(context -> assertThat(context.getBean(TopicAccessPolicy.class)).isSameAs(TopicAccessPolicy.ALLOW_ALL));
        runner().withUserConfiguration(Manager.class)
                .withBean("ownPolicy", TopicAccessPolicy.class, () -> request -> false)
                .run(context -> assertThat(context).hasSingleBean(TopicAccessPolicy.class).hasBean("ownPolicy"));
        runner().withClassLoader(new FilteredClassLoader(AuthorizationManager.class))
                .run(context -> assertThat(context).doesNotHaveBean(AuthorizationManagerTopicAccessPolicy.class));
        runner().withBean("otherManager", AuthorizationManager.class, () -> (a, o) -> null) // not for topics
                .run(context -> assertThat(context.getBean(TopicAccessPolicy.class)).isSameAs(TopicAccessPolicy.ALLOW_ALL));
    }

    private static TopicAccessRequest request(String topic, java.security.Principal principal) {
        return new TopicAccessRequest(topic, URI.create("ws://localhost/ws?topic=" + topic), new HttpHeaders(), principal, null);
    }

    @Configuration(proxyBeanMethods = false)
    static class Manager {
        @Bean
        AuthorizationManager<TopicAccessRequest> topicAuthorization() {
            return TopicAuthorizationManager.builder().topics("public.>").permitAll().topics("admin.*").hasRole("ADMIN")
                    .anyTopic().authenticated().build();
        }
    }
}
