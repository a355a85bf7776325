package io.github.tinywasm.wasi.autoconfigure.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.autoconfigure.websocket.FanOutFeed;
import io.lettuce.core.RedisClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Each branch of {@link WasiClusterAutoConfiguration}: off by default, on with Spring Data Redis (the node, its health
 * indicator, the fan-out's feed and the broadcaster), on without it (start-up fails and says what to add), a user's
 * indicator kept, and the whole starter turned off. Redis itself is not needed: the port is a closed one, and the
 * node keeps trying in the background while the context lives (the real cluster is tested in integration-tests).
 */
class WasiClusterAutoConfigurationTests {

    @TempDir
    Path modules;

    private int closedPort;

    @BeforeEach
    void closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withInitializer(c -> c.getBeanFactory().setConversionService(ApplicationConversionService.getSharedInstance()))
                .withConfiguration(AutoConfigurations.of(WasiAutoConfiguration.class, DataRedisAutoConfiguration.class,
                        WasiClusterAutoConfiguration.class))
                .withPropertyValues("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + closedPort);
    }

    @Test
    void offByDefaultEvenWithRedisOnTheClassPath() {
        runner().run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ClusterNode.class)
                .doesNotHaveBean(ClusterHealthIndicator.class).doesNotHaveBean(FanOutFeed.class));
    }

    @Test
    void onWithSpringDataRedisThisNodeJoinsAndFeedsTheFanOut() {
        runner().withPropertyValues("tinywasm.wasi.cluster.redis.enabled=true", "tinywasm.wasi.cluster.node-id=n1",
                "tinywasm.wasi.cluster.topics=orders.*").run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(ClusterNode.class)
                            .hasSingleBean(ClusterHealthIndicator.class);
                    ClusterNode node = context.getBean(ClusterNode.class);
                    assertThat(context.getBean(FanOutFeed.class)).isSameAs(node);
                    assertThat(context.getBeansOfType(WebSocketBroadcaster.class)).containsValue(node);
                    assertThat(node.isRunning()).isTrue();
                    assertThat(node.state().nodeId()).isEqualTo("n1");
                    assertThat(node.state().busTopics()).containsExactly("orders.*");
                    assertThat(node.state().connected()).isFalse(); // nothing listens on that port
                });
    }

    @Test
    void onWithoutSpringDataRedisStartUpFailsSayingWhatToAdd() {
        runner().withClassLoader(new FilteredClassLoader(LettuceConnectionFactory.class, RedisClient.class))
                .withPropertyValues("tinywasm.wasi.cluster.redis.enabled=true")
                .run(context -> assertThat(context).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("tinywasm.wasi.cluster.redis.enabled=true needs Spring Data Redis")
                        .hasMessageContaining("spring-boot-starter-data-redis"));
    }

    @Test
    void aUsersHealthIndicatorOfThatNameIsKept() {
        runner().withPropertyValues("tinywasm.wasi.cluster.redis.enabled=true")
                .withUserConfiguration(UserIndicator.class)
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(ClusterNode.class)
                        .doesNotHaveBean(ClusterHealthIndicator.class).hasBean("wasiClusterHealthIndicator"));
    }

    @Test
    void nothingWhenTheStarterIsOff() {
        runner().withPropertyValues("tinywasm.wasi.enabled=false", "tinywasm.wasi.cluster.redis.enabled=true")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ClusterNode.class));
    }

    @Configuration(proxyBeanMethods = false)
    static class UserIndicator {

        @Bean
        org.springframework.boot.health.contributor.HealthIndicator wasiClusterHealthIndicator() {
            return () -> org.springframework.boot.health.contributor.Health.up().build();
        }
    }
}
