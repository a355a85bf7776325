package io.github.tinywasm.wasi.it.reactive;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A WebFlux (Reactor Netty) application whose only other dependency is the starter: the user's side of the
 * README, with one rule of its own (no client may subscribe to a topic starting with "secret").
 */
@SpringBootApplication(proxyBeanMethods = false)
public class ReactiveApplication {

    public static void main(String[] args) {
        SpringApplication.run(ReactiveApplication.class, args);
    }

    @Bean
    TopicAccessPolicy topicAccessPolicy() {
        return request -> !request.topic().startsWith("secret");
    }
}
