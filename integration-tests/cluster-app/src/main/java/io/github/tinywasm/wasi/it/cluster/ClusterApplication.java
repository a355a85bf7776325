package io.github.tinywasm.wasi.it.cluster;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring MVC application with the starter, Spring Data Redis and Actuator: run several, with
 * {@code tinywasm.wasi.cluster.redis.enabled=true} and the same {@code spring.data.redis.*}, and they are one cluster.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class ClusterApplication {

    public static void main(String[] args) {
        SpringApplication.run(ClusterApplication.class, args);
    }
}
