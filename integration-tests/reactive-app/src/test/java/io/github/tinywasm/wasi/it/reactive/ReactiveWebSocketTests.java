package io.github.tinywasm.wasi.it.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.autoconfigure.websocket.ReactiveTopicWebSocketHandler;
import io.github.tinywasm.wasi.it.WebSocketEndpointSuite;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.ClassUtils;
import io.netty.channel.ChannelOption;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The WebSocket suite on WebFlux with Reactor Netty, with the starter's real dependency set. */
class ReactiveWebSocketTests extends WebSocketEndpointSuite {

    @Override
    protected Class<?> application() {
        return ReactiveApplication.class;
    }

    @Override
    protected String[] stackProperties() {
        // Reactor Netty's event loops wait 2 s for quiet before they end when each test's context closes
        return new String[] {"spring.reactor.netty.shutdown-quiet-period=0s"};
    }

    @Test
    void theApplicationIsAReactiveOneOnNettyWithoutServletClasses() throws Exception {
        ConfigurableApplicationContext context = start();
        assertThat(((WebServerApplicationContext) context).getWebServer().getClass().getName()).contains("Netty");
        assertThat(context.getBeansOfType(ReactiveTopicWebSocketHandler.class)).hasSize(1);
        assertThat(context.containsBean("topicWebSocketHandler")).isFalse();
        // the starter brought no servlet stack with it
        assertThat(ClassUtils.isPresent("jakarta.servlet.Servlet", null)).isFalse();
        assertThat(ClassUtils.isPresent("org.apache.catalina.startup.Tomcat", null)).isFalse();
    }

    @Override
    protected Class<?> smallSendBuffers() {
        return SmallSocketBuffers.class;
    }

    /** Small kernel send buffers, so that a client on a slow link holds its sends back at once. */
    @Configuration(proxyBeanMethods = false)
    static class SmallSocketBuffers {
        @Bean
        NettyServerCustomizer smallSendBuffers() {
            return server -> server.childOption(ChannelOption.SO_SNDBUF, 16384);
        }
    }
}
