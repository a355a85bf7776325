package io.github.tinywasm.wasi.autoconfigure.cluster;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.NoneNestedConditions;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Cluster mode ({@code tinywasm.wasi.cluster.redis.enabled=true}): this node joins the cluster of the nodes sharing
 * its Redis (Spring Boot's connection, {@code spring.data.redis.*}) and key prefix. The {@link ClusterNode} receives
 * every guest's {@code ws_broadcast} (as a broadcaster bean), feeds the WebSocket fan-out (as its
 * {@link io.github.tinywasm.wasi.autoconfigure.websocket.FanOutFeed}) and carries the bus topics of
 * {@code tinywasm.wasi.cluster.topics}; the {@code wasiCluster} health indicator and the {@code wasi.cluster.*}
 * meters come with Actuator and Micrometer.
 *
 * <p>Needs Spring Data Redis with Lettuce ({@code spring-boot-starter-data-redis}); with the property on and either
 * missing, start-up fails and says so, rather than run a node that silently is not in the cluster.
 */
@AutoConfiguration(after = WasiAutoConfiguration.class,
        afterName = {"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
                "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
                "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(WasiClusterAutoConfiguration.ENABLED)
public final class WasiClusterAutoConfiguration {

    static final String ENABLED = "tinywasm.wasi.cluster.redis.enabled";
    static final String LETTUCE_FACTORY = "org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory";
    static final String LETTUCE = "io.lettuce.core.RedisClient";

    /** The node, on Spring Boot's Lettuce connection factory. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {LETTUCE_FACTORY, LETTUCE})
    static class RedisClusterConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ClusterNode wasiClusterNode(WasiProperties properties, ObjectProvider<RedisConnectionFactory> factories,
                ObjectProvider<TopicFanOut> fanOut, ObjectProvider<WasiServer> server) {
            WasiProperties.Cluster cluster = properties.cluster();
            LettuceConnectionFactory factory = lettuce(factories.getIfAvailable());
            Duration timeout = factory.getClientConfiguration().getCommandTimeout();
            // the fan-out and the server need this node to exist (it feeds the one, hears the other's guests): both are
            // looked up when the node starts
            return new ClusterNode(cluster.nodeId(), cluster.redis().keyPrefix(), () -> redisClient(factory), timeout,
                    properties.websocket().history().size(), cluster.redis().busStreamLength(), cluster.topics(),
                    cluster.outboxCapacity(), fanOut::getIfAvailable, server::getIfAvailable);
        }

        private static LettuceConnectionFactory lettuce(@Nullable RedisConnectionFactory factory) {
            if (factory instanceof LettuceConnectionFactory lettuce) {
                return lettuce;
            }
            throw new IllegalStateException(ENABLED + "=true needs Spring Boot's Lettuce connection factory, found "
                    + (factory == null ? "no RedisConnectionFactory" : factory.getClass().getName())
                    + ": use spring-boot-starter-data-redis with its default client, Lettuce");
        }

        private static RedisClient redisClient(LettuceConnectionFactory factory) {
            AbstractRedisClient client = factory.getRequiredNativeClient();
            if (client instanceof RedisClient redis) {
                return redis;
            }
            throw new IllegalStateException(ENABLED + "=true needs a standalone or Sentinel Redis (spring.data.redis.host,"
                    + " .port or .sentinel.*); Redis Cluster (spring.data.redis.cluster.*) is not supported");
        }
    }

    /** The {@code wasiCluster} health indicator. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {LETTUCE_FACTORY, LETTUCE, "org.springframework.boot.health.contributor.HealthIndicator"})
    @ConditionalOnEnabledHealthIndicator("wasi-cluster")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "wasiClusterHealthIndicator")
        ClusterHealthIndicator wasiClusterHealthIndicator(ClusterNode node) {
            return new ClusterHealthIndicator(node);
        }
    }

    /** The {@code wasi.cluster.*} meters. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {LETTUCE_FACTORY, LETTUCE, "io.micrometer.core.instrument.MeterRegistry"})
    @ConditionalOnBean(type = "io.micrometer.core.instrument.MeterRegistry")
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        ClusterMetrics wasiClusterMetrics(ClusterNode node) {
            return new ClusterMetrics(node);
        }
    }

    /** The property is on but Spring Data Redis or Lettuce is missing: fail, saying what to add. */
    @Configuration(proxyBeanMethods = false)
    @Conditional(RedisMissing.class)
    static class RedisMissingConfiguration {

        @Bean
        Object wasiClusterRedisMissing() {
            throw new IllegalStateException(ENABLED + "=true needs Spring Data Redis with Lettuce on the class path:"
                    + " add org.springframework.boot:spring-boot-starter-data-redis");
        }
    }

    static final class RedisMissing extends NoneNestedConditions {

        RedisMissing() {
            super(ConfigurationPhase.PARSE_CONFIGURATION);
        }

        @ConditionalOnClass(name = {LETTUCE_FACTORY, LETTUCE})
        static class Present {
        }
    }
}
