package io.github.tinywasm.wasi.autoconfigure.it;

import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;

/** A plain Spring Boot application using the auto-configuration, for the integration tests. */
@SpringBootApplication(proxyBeanMethods = false)
public class TestApplication {

    @Bean
    EventRecorder eventRecorder() {
        return new EventRecorder();
    }

    /** Topics starting with "secret" are refused at the handshake. */
    @Bean
    TopicAccessPolicy topicAccessPolicy() {
        return request -> !request.topic().startsWith("secret");
    }

    /** Records guest messages received as ApplicationEvents, all of them and those of topic "a-out". */
    public static class EventRecorder {
        final List<WasiMessageEvent> all = new CopyOnWriteArrayList<>();
        final List<WasiMessageEvent> aOut = new CopyOnWriteArrayList<>();

        @EventListener
        public void any(WasiMessageEvent event) {
            all.add(event);
        }

        @EventListener(condition = "#event.topic == 'a-out'")
        public void onlyAOut(WasiMessageEvent event) {
            aOut.add(event);
        }
    }
}
