package io.github.tinywasm.wasi.it.plain;

import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;

/**
 * An application without a web stack, whose only dependency is the starter: it sends {@code plain.messages}
 * requests to the guest in its modules folder (which answers each one on topic "replies"), waits for every
 * answer, and is done: {@code main} returns, and since nothing keeps the JVM alive, it exits, closing the
 * context (and draining the modules) on the way out.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class PlainApplication {

    private static final Logger log = LoggerFactory.getLogger(PlainApplication.class);

    public static void main(String[] args) {
        SpringApplication.run(PlainApplication.class, args);
    }

    @Bean
    Replies replies() {
        return new Replies();
    }

    @Bean
    ApplicationRunner roundTrips(WasiPublisher publisher, Replies replies, @Value("${plain.messages:100}") int messages) {
        return args -> {
            replies.expect(messages);
            for (int i = 0; i < messages; i++) {
                publisher.publish("requests", "request " + i);
            }
            if (!replies.await(Duration.ofSeconds(30))) {
                throw new IllegalStateException("only " + replies.count() + " of " + messages + " replies arrived");
            }
            log.info("all {} replies received", messages);
        };
    }

    /** Counts the guest's replies, which arrive as ApplicationEvents. */
    static class Replies {
        private final AtomicInteger count = new AtomicInteger();
        private volatile CountDownLatch all = new CountDownLatch(0);

        void expect(int n) {
            all = new CountDownLatch(n);
        }

        @EventListener(condition = "#event.topic == 'replies'")
        public void reply(WasiMessageEvent event) {
            count.incrementAndGet();
            all.countDown();
        }

        int count() {
            return count.get();
        }

        boolean await(Duration timeout) throws InterruptedException {
            return all.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
