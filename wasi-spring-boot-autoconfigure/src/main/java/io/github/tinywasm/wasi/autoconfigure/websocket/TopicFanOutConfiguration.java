package io.github.tinywasm.wasi.autoconfigure.websocket;

import io.github.tinywasm.wasi.autoconfigure.WasiProperties;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What {@code /ws} needs on either web stack: the {@link TopicFanOut} and the {@link TopicAccessPolicy} (allow all,
 * unless the application defines one). Imported by the Spring MVC and the WebFlux configuration of
 * {@link WasiWebSocketAutoConfiguration}, so it exists only where one of them applies.
 */
@Configuration(proxyBeanMethods = false)
class TopicFanOutConfiguration {

    /** The fan-out; in a cluster (a {@link FanOutFeed} bean) it takes its frames from the feed. */
    @Bean
    @ConditionalOnMissingBean
    TopicFanOut topicFanOut(WasiProperties properties, ObjectProvider<FanOutFeed> feed) {
        WasiProperties.WebSocket ws = properties.websocket();
        TopicFanOut fanOut = new TopicFanOut(ws.sendBufferSize().toBytes(), ws.sendTimeLimit(), ws.history().size());
        feed.ifAvailable(fanOut::feedFrom);
        return fanOut;
    }

    @Bean
    @ConditionalOnMissingBean
    TopicAccessPolicy topicAccessPolicy() {
        return TopicAccessPolicy.ALLOW_ALL;
    }
}
