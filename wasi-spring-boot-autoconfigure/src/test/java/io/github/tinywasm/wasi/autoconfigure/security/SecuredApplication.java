package io.github.tinywasm.wasi.autoconfigure.security;

import static org.springframework.security.config.Customizer.withDefaults;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessRequest;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/** The example of docs/security.md, as an application. */
@SpringBootApplication(proxyBeanMethods = false)
public class SecuredApplication {

    // --8<-- [docs/security.md: filter chain]
    @Bean
    SecurityFilterChain securityFilterChain(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(requests -> requests
                        .requestMatchers(EndpointRequest.to("health")).permitAll()
                        .requestMatchers(EndpointRequest.to("wasi")).hasRole("ADMIN")
                        .requestMatchers("/ws").authenticated()
                        .anyRequest().authenticated())
                .httpBasic(withDefaults());
        // CSRF protection stays on: POST /actuator/wasi/{name} (reload) needs the token
        return http.build();
    }

    @Bean
    AuthorizationManager<TopicAccessRequest> topicAuthorization() {
        return TopicAuthorizationManager.builder()
                .topics("public.>").permitAll()
                .topics("admin.*").hasRole("ADMIN")
                .anyTopic().authenticated()
                .build();
    }
    // --8<--

    @Bean
    UserDetailsService users() {
        return new InMemoryUserDetailsManager(
                User.withUsername("user").password("{noop}user-pw").roles("USER").build(),
                User.withUsername("admin").password("{noop}admin-pw").roles("ADMIN", "USER").build());
    }
}
