package io.github.tinywasm.wasi.it.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicWebSocketHandler;
import io.github.tinywasm.wasi.it.WebSocketEndpointSuite;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The WebSocket suite on Spring MVC with Tomcat's JSR-356 container, with the starter's real dependency set. */
class ServletWebSocketTests extends WebSocketEndpointSuite {

    @Override
    protected Class<?> application() {
        return ServletApplication.class;
    }

    @Test
    void theApplicationIsAServletOneOnTomcat() throws Exception {
        ConfigurableApplicationContext context = start();
        assertThat(((WebServerApplicationContext) context).getWebServer().getClass().getName()).contains("Tomcat");
        assertThat(context.getBeansOfType(TopicWebSocketHandler.class)).hasSize(1);
    }

    @Override
    protected Class<?> smallSendBuffers() {
        return SmallSocketBuffers.class;
    }

    /** Small kernel send buffers, so that a client on a slow link holds its sends back at once. */
    @Configuration(proxyBeanMethods = false)
    static class SmallSocketBuffers {
        @Bean
        TomcatConnectorCustomizer smallSendBuffers() {
            return connector -> connector.setProperty("socket.txBufSize", "16384");
        }
    }
}
