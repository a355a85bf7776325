package io.github.tinywasm.wasi.autoconfigure.metrics;

import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.ModuleCounters;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicWebSocketHandler;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer meters of tinywasm-wasi, tagged by {@code module} (and {@code reason} or {@code result});
 * never by topic or payload, whose values are unbounded. Counters read the engine's own cumulative counters
 * when scraped, so the hot path pays nothing for them. A module's meters are registered when it first loads.
 *
 * <ul>
 *   <li>{@code wasi.messages.published}, {@code wasi.messages.delivered}, {@code wasi.messages.dropped}
 *       (reason), {@code wasi.messages.broadcast}
 *   <li>{@code wasi.guest.errors}, {@code wasi.guest.traps}, {@code wasi.guest.timeouts}
 *   <li>{@code wasi.guest.calls} (function timer: messages handled and time in the guest)
 *   <li>{@code wasi.mailbox.depth} (gauge), {@code wasi.module.memory} (gauge, bytes)
 *   <li>{@code wasi.module.swaps} (timer, result = success | failure; first loads are tagged swap=false)
 *   <li>{@code wasi.websocket.sessions} (gauge), {@code wasi.websocket.frames.sent},
 *       {@code wasi.websocket.frames.dropped}, {@code wasi.websocket.sessions.stalled}
 * </ul>
 */
public class WasiMetrics implements MeterBinder {

    private final WasiServer server;
    private final @Nullable TopicWebSocketHandler webSocket;
    private final Set<String> bound = ConcurrentHashMap.newKeySet();
    private volatile @Nullable MeterRegistry registry;

    public WasiMetrics(WasiServer server, @Nullable TopicWebSocketHandler webSocket) {
        this.server = server;
        this.webSocket = webSocket;
        server.addListener(new Listener());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        for (ModuleInfo m : server.modules()) {
            bindModule(registry, m.name());
        }
        FunctionCounter.builder("wasi.bus.published", server, WasiServer::publishedCount)
                .description("Messages published on the bus, by guests and the application").register(registry);
        TopicWebSocketHandler ws = webSocket;
        if (ws != null) {
            Gauge.builder("wasi.websocket.sessions", ws, TopicWebSocketHandler::sessionCount)
                    .description("Open WebSocket sessions").register(registry);
            FunctionCounter.builder("wasi.websocket.frames.sent", ws, h -> h.stats().framesSent())
                    .description("Frames written to WebSocket clients").register(registry);
            FunctionCounter.builder("wasi.websocket.frames.dropped", ws, h -> h.stats().framesDropped())
                    .tag("reason", "buffer-full")
                    .description("Frames dropped for a client whose send buffer was full").register(registry);
            FunctionCounter.builder("wasi.websocket.sessions.stalled", ws, h -> h.stats().stalledClosed())
                    .description("Sessions closed because a frame exceeded the send time limit").register(registry);
        }
    }

    private void bindModule(MeterRegistry registry, String module) {
        if (!bound.add(module)) {
            return;
        }
        Tags tags = Tags.of("module", module);
        counter(registry, "wasi.messages.published", "Messages the module published", tags, ModuleCounters::published);
        counter(registry, "wasi.messages.delivered", "Messages handed to the module without error", tags, ModuleCounters::delivered);
        counter(registry, "wasi.messages.broadcast", "ws_broadcast calls of the module", tags, ModuleCounters::broadcasts);
        counter(registry, "wasi.guest.errors", "Failed guest calls while handling a message", tags, ModuleCounters::errors);
        counter(registry, "wasi.guest.traps", "Guest traps while handling a message", tags, ModuleCounters::traps);
        counter(registry, "wasi.guest.timeouts", "Guest calls interrupted after the call timeout", tags, ModuleCounters::timeouts);
        for (DropReason r : DropReason.values()) {
            counter(registry, "wasi.messages.dropped", "Messages that did not reach the module", tags.and("reason", r.tag()),
                    c -> c.dropped().getOrDefault(r, 0L));
        }
        FunctionTimer.builder("wasi.guest.calls", server, s -> counters(s, module).calls(),
                        s -> counters(s, module).callNanos(), TimeUnit.NANOSECONDS)
                .tags(tags).description("Messages handled by the guest and the time spent in it").register(registry);
        gauge(registry, "wasi.mailbox.depth", "Messages queued for the module", tags, ModuleInfo::mailboxDepth);
        gauge(registry, "wasi.module.memory", "Linear memory of the serving version, in bytes", tags, ModuleInfo::memoryBytes);
    }

    private void counter(MeterRegistry registry, String name, String description, Tags tags,
            ToLongFunction<ModuleCounters> value) {
        String module = tags.stream().filter(t -> t.getKey().equals("module")).findFirst().orElseThrow().getValue();
        FunctionCounter.builder(name, server, s -> value.applyAsLong(counters(s, module)))
                .tags(tags).description(description).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String description, Tags tags, ToDoubleFunction<ModuleInfo> value) {
        String module = tags.stream().filter(t -> t.getKey().equals("module")).findFirst().orElseThrow().getValue();
        Gauge.builder(name, server, s -> s.module(module).map(value::applyAsDouble).orElse(0.0))
                .tags(tags).description(description).register(registry);
    }

    private static ModuleCounters counters(WasiServer server, String module) {
        return server.module(module).map(ModuleInfo::counters).orElse(EMPTY);
    }

    private static final ModuleCounters EMPTY = new ModuleCounters(0, 0, 0, 0, 0, 0, java.util.Map.of(), 0, 0, 0, 0);

    private void swap(String module, boolean swap, Duration took, String result) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        bindModule(r, module);
        Timer.builder("wasi.module.swaps").description("Module loads and hot swaps, from load to commit")
                .tags("module", module, "swap", Boolean.toString(swap), "result", result)
                .register(r).record(took);
    }

    private final class Listener implements WasiListener {
        @Override
        public void moduleLoaded(String module, boolean swap, Duration took) {
            swap(module, swap, took, "success");
        }

        @Override
        public void moduleLoadFailed(String module, boolean swap, Duration took, WasiModuleException error) {
            swap(module, swap, took, "failure");
        }
    }
}
