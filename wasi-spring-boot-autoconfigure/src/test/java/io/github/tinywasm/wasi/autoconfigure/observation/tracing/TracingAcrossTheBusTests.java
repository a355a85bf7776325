package io.github.tinywasm.wasi.autoconfigure.observation.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.github.tinywasm.wasi.autoconfigure.WasiMessageEvent;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.observation.ObservedGuestAccess;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;

/**
 * One trace from the application's publish, through the guest that handles it and what the guest publishes and
 * broadcasts, to the {@code @EventListener} that receives the guest's message: a Spring Boot application with
 * Micrometer Tracing's Brave bridge, as Boot configures it, and a real guest.
 */
class TracingAcrossTheBusTests {

    @TempDir
    Path modules;

    @Test
    void oneTraceSpansPublishGuestGuestPublishAndListener() {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(TracedApp.class)
                .web(WebApplicationType.NONE)
                .properties("tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.observations.enabled=true",
                        "management.tracing.sampling.probability=1.0")
                .run()) {
            context.getBean(WasiServer.class).load("echo", ObservedGuestAccess.bytes());
            TracedApp app = context.getBean(TracedApp.class);
            Tracer tracer = context.getBean(Tracer.class);

            Observation request = Observation.start("test.request", context.getBean(ObservationRegistry.class));
            String traceId;
            String requestSpanId;
            try (Observation.Scope scope = request.openScope()) {
                Span current = tracer.currentSpan();
                traceId = current.context().traceId();
                requestSpanId = current.context().spanId();
                context.getBean(WasiPublisher.class).publish("in", "hello");
            } finally {
                request.stop();
            }

            await().atMost(Duration.ofSeconds(20)).until(() -> app.seen.size() == 2);
            assertThat(app.seen).containsOnly(traceId); // the broadcaster and the listener ran in the trace
            assertThat(app.mdcTraceIds).containsExactly(traceId); // and the listener's log lines carry it
            assertThat(app.traceparents).singleElement().asString().startsWith("00-" + traceId + "-");

            await().atMost(Duration.ofSeconds(20)).until(() -> app.spans.size() >= 6);
            assertThat(app.spans).allSatisfy(s -> assertThat(s.traceId()).isEqualTo(traceId));
            MutableSpan publish = span(app, "tinywasm.bus.publish", "none", "in");
            MutableSpan process = span(app, "tinywasm.bus.process", "echo", "in");
            MutableSpan guestPublish = span(app, "tinywasm.bus.publish", "echo", "out");
            MutableSpan broadcast = span(app, "tinywasm.websocket.broadcast", "echo", "view");
            MutableSpan listener = span(app, "tinywasm.bus.process", "none", "out");
            assertThat(publish.parentId()).isEqualTo(requestSpanId);
            assertThat(process.parentId()).isEqualTo(publish.id());
            assertThat(guestPublish.parentId()).isEqualTo(process.id());
            assertThat(broadcast.parentId()).isEqualTo(process.id());
            assertThat(listener.parentId()).isEqualTo(guestPublish.id());
            assertThat(publish.kind()).isEqualTo(brave.Span.Kind.PRODUCER);
            assertThat(process.kind()).isEqualTo(brave.Span.Kind.CONSUMER);
        }
    }

    private static MutableSpan span(TracedApp app, String name, String module, String topic) {
        return app.spans.stream()
                // a span is named "<topic> <operation>"; the observation's name is its timer's
                .filter(s -> s.tag("messaging.operation") != null && name.endsWith(s.tag("messaging.operation")))
                .filter(s -> module.equals(s.tag("tinywasm.module")) && topic.equals(s.tag("messaging.destination.name")))
                .findFirst().orElseThrow(() -> new AssertionError("no span " + name + " " + module + " " + topic
                        + " among " + app.spans.stream().map(s -> s.name() + s.tags()).toList()));
    }

    @SpringBootApplication(proxyBeanMethods = false)
    static class TracedApp {
        final List<MutableSpan> spans = new CopyOnWriteArrayList<>();
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<String> mdcTraceIds = new CopyOnWriteArrayList<>();
        final List<String> traceparents = new CopyOnWriteArrayList<>();
        private Tracer tracer;

        @Bean
        SpanHandler collectingSpanHandler() {
            return new SpanHandler() {
                @Override
                public boolean end(TraceContext context, MutableSpan span, Cause cause) {
                    spans.add(span);
                    return true;
                }
            };
        }

        @Bean
        WebSocketBroadcaster tracedBroadcaster(Tracer tracer) {
            this.tracer = tracer;
            return (module, topic, payload) -> seen.add(tracer.currentSpan().context().traceId());
        }

        @EventListener
        void on(WasiMessageEvent event) {
            seen.add(tracer.currentSpan().context().traceId());
            mdcTraceIds.add(String.valueOf(MDC.get("traceId")));
            traceparents.add(String.valueOf(event.getMessage().header("traceparent")));
        }
    }
}
