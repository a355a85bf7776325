package io.github.tinywasm.wasi.bench;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Configuration;
import org.springframework.messaging.simp.config.MessageBrokerRegistry;
import org.springframework.web.socket.config.annotation.EnableWebSocketMessageBroker;
import org.springframework.web.socket.config.annotation.StompEndpointRegistry;
import org.springframework.web.socket.config.annotation.WebSocketMessageBrokerConfigurer;

/**
 * The fan-out benchmark's server: tinywasm-wasi's {@code /ws?topic=} (auto-configured by the starter) and, in
 * the same application, Spring's STOMP simple broker at {@code /stomp}, the alternative a Spring user would
 * pick.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class FanOutApplication {

    @Configuration(proxyBeanMethods = false)
    @EnableWebSocketMessageBroker
    static class Stomp implements WebSocketMessageBrokerConfigurer {
        @Override
        public void registerStompEndpoints(StompEndpointRegistry registry) {
            registry.addEndpoint("/stomp");
        }

        @Override
        public void configureMessageBroker(MessageBrokerRegistry registry) {
            registry.enableSimpleBroker("/topic");
        }
    }
}
