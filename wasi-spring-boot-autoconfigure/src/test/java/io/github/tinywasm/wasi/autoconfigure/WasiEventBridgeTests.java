package io.github.tinywasm.wasi.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetrics;
import io.github.tinywasm.wasi.autoconfigure.metrics.WasiMetricsAutoConfiguration;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

/**
 * The event bridge with a real slow {@code @EventListener}: what it accepted becomes events at stop, and what it drops
 * is counted (review1 findings, fixed). Real Spring applications, real guests; no mocks.
 */
class WasiEventBridgeTests {

    /** Events the slow listener handled. */
    static final AtomicInteger received = new AtomicInteger();
    /** Released by the test; the listener waits for it on its first event. */
    static volatile CountDownLatch release = new CountDownLatch(0);
    static volatile CountDownLatch entered = new CountDownLatch(0);

    @TempDir
    Path modules;

    @BeforeEach
    void reset() {
        received.set(0);
        release = new CountDownLatch(1);
        entered = new CountDownLatch(1);
    }

    private ConfigurableApplicationContext run(String... properties) throws Exception {
        Files.write(modules.resolve("relay.wasm"), Guests.relay("in", "out"));
        String[] all = new String[properties.length + 2];
        all[0] = "tinywasm.wasi.modules-dir=" + modules;
        all[1] = "tinywasm.wasi.watch=false";
        System.arraycopy(properties, 0, all, 2, properties.length);
        return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(all).run();
    }

    private static ModuleInfo relay(ConfigurableApplicationContext context) {
        return context.getBean(WasiServer.class).module("relay").orElseThrow();
    }

    /**
     * Promise (WasiEventBridge javadoc: it "unsubscribes after they were drained: nothing a guest publishes while
     * the context runs is missed"; operations.md: close() "lets every Java subscriber (the event bridge included)
     * receive what it had accepted"). Was broken (review1, fixed): when the context closes while a slow @EventListener is busy, the
     * bridge's SmartLifecycle stop closes its subscription at once and the guest messages already in its mailbox
     * never become events; the count of them stays in a Subscription nobody can read (no log line, no meter).
     * Here 10 guest messages were accepted by the bridge, 1 becomes an event.
     * Cause (fixed): WasiEventBridge.stop (WasiEventBridge.java:70-76) calls Subscription.close (JavaSubscription
     * closeCounting drops the queue) instead of waiting for the mailbox to empty (JavaSubscription.awaitDelivered,
     * within the drain timeout) and logging what is left; WasiServer.close then no longer sees the bridge's
     * subscription. Fix: await delivery (bounded by drain-timeout) before closing, and log/count what could not be.
     */
    @Test
    void stopDeliversTheGuestMessagesTheBridgeHadAccepted() throws Exception {
        ConfigurableApplicationContext context = run();
        WasiEventBridge bridge = context.getBean(WasiEventBridge.class);
        WasiPublisher publisher = context.getBean(WasiPublisher.class);
        for (int i = 0; i < 10; i++) {
            publisher.publish("in", "m" + i);
        }
        // the guest relayed all 10 to "out": each was offered to the bridge (a wildcard subscriber) as it was published
        await().atMost(Duration.ofSeconds(20)).until(() -> relay(context).counters().published() == 10);
        assertThat(entered.await(20, TimeUnit.SECONDS)).isTrue();

        Thread closer = new Thread(context::close, "test-closer");
        closer.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> !bridge.isRunning());
        } finally {
            release.countDown();
        }
        closer.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(received.get()).as("guest messages the event bridge had accepted that became events").isEqualTo(10);
    }

    /**
     * Promise (configuration.md mailbox.capacity: "Most messages queued for one module (or one Java subscriber, such
     * as the event bridge)"; mailbox.overflow: "Every drop is counted (wasi.messages.dropped, reason mailbox-full)";
     * design: "a drop is always counted, never silent"). Was broken (review1, fixed): the event bridge's drops (a slow @EventListener,
     * overflow=drop) appear in no meter, no endpoint and no log line: received events + every wasi.messages.dropped
     * meter fall short of what the guest published.
     * Cause (fixed): JavaSubscription.offer (JavaSubscription.java:42-45) counts into its own LongAdder only, which
     * WasiEventBridge keeps private and WasiMetrics (WasiMetrics.java:72-97) never reads; no log line either
     * (ModuleSlot.drop logs, JavaSubscription does not). Fix: a meter for Java subscriptions' drops (e.g.
     * wasi.messages.dropped{subscriber=event-bridge}) and a rate-limited warning.
     */
    @Test
    void dropsOfTheBridgeAreCounted() throws Exception {
        try (ConfigurableApplicationContext context = run("tinywasm.wasi.mailbox.capacity=2",
                "tinywasm.wasi.mailbox.overflow=drop")) {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            WasiPublisher publisher = context.getBean(WasiPublisher.class);
            try {
                for (int i = 0; i < 10; i++) {
                    int n = i + 1;
                    publisher.publish("in", "m" + i);
                    // one at a time, so that the guest's own mailbox (capacity 2) never drops
                    await().atMost(Duration.ofSeconds(20)).until(() -> relay(context).counters().published() == n);
                }
            } finally {
                release.countDown();
            }
            assertThat(relay(context).counters().droppedTotal()).isZero();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(received.get()
                    + registry.find("wasi.messages.dropped").functionCounters().stream().mapToDouble(FunctionCounter::count).sum()
                    + registry.find("wasi.subscriber.messages.dropped").functionCounters().stream()
                            .mapToDouble(FunctionCounter::count).sum())
                    .as("events received + wasi.messages.dropped, for 10 guest messages").isGreaterThanOrEqualTo(10.0));
        }
    }


    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({WasiAutoConfiguration.class, WasiMetricsAutoConfiguration.class})
    static class App {

        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }

        @Bean
        SlowListener slowListener() {
            return new SlowListener();
        }

        @Bean
        Object wasiMetricsBinder(WasiMetrics metrics, MeterRegistry registry) {
            metrics.bindTo(registry); // no Boot metrics auto-configuration here: bind as it would
            return metrics;
        }
    }

    /** A slow @EventListener: the first guest message waits for the test, as a listener waiting on a database would. */
    static class SlowListener {
        @EventListener
        public void on(WasiMessageEvent event) throws InterruptedException {
            if (!"out".equals(event.getTopic())) {
                return;
            }
            entered.countDown();
            release.await(60, TimeUnit.SECONDS);
            received.incrementAndGet();
        }
    }
}
