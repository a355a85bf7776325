package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.module.ModuleSlot;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * The seam tracing is built on: a header added at publish reaches subscribers; a guest's own publish happens on
 * the worker thread inside the process scope of the message it is handling, with the module in the MDC.
 */
class BusInterceptorTest {

    @Test
    void guestPublishRunsInsideTheScopeOfTheMessageItHandles() {
        List<String> events = new CopyOnWriteArrayList<>();
        ThreadLocal<String> current = new ThreadLocal<>();
        BusInterceptor interceptor = new BusInterceptor() {
            @Override
            public Message beforePublish(Message message) {
                String parent = current.get();
                events.add("publish " + message.topic() + " parent=" + parent + " mdc=" + MDC.get(ModuleSlot.MDC_KEY));
                return message.withHeader("trace", parent == null ? "root" : parent + ">" + message.topic());
            }

            @Override
            public Scope beforeProcess(String module, Message message) {
                current.set(message.header("trace"));
                events.add("process " + message.topic() + " by " + module);
                return error -> {
                    current.remove();
                    events.add("end " + message.topic() + " by " + module + (error != null ? " failed" : ""));
                };
            }
        };
        try (WasiServer server = new WasiServer(WasiConfig.defaults(), WebSocketBroadcaster.NONE, interceptor)) {
            server.load("relay", Guests.relay("in", "out"));
            Collector out = new Collector();
            server.subscribe("out", out);

            server.publish("in", "hello");

            Message received = out.awaitCount(1).get(0);
            assertThat(received.header("trace")).isEqualTo("root>out");
            assertThat(received.payloadAsString()).isEqualTo("hello");
            assertThat(events).containsSubsequence(
                    "publish in parent=null mdc=null",
                    "process in by relay",
                    "publish out parent=root mdc=relay",
                    "end in by relay");
            // the Java subscriber runs on another worker: its scope may interleave with the guest's
            org.awaitility.Awaitility.await().until(() -> events.contains("end out by null"));
            assertThat(events).containsSubsequence("process out by null", "end out by null");
        }
    }
}
