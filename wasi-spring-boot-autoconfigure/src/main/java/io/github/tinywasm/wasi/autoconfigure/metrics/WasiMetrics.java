package io.github.tinywasm.wasi.autoconfigure.metrics;

import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.ModuleCounters;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import io.github.tinywasm.wasi.http.HttpInfo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.DisposableBean;

/**
 * Micrometer meters of tinywasm-wasi, tagged by {@code module} (and {@code reason} or {@code outcome}); never by
 * topic or payload, whose values are unbounded. Counters read the engine's own cumulative counters when scraped,
 * so the hot path pays nothing for them. Names, tags and units are listed in docs/configuration.md.
 *
 * <ul>
 *   <li>{@code wasi.messages.published}, {@code wasi.messages.delivered}, {@code wasi.messages.dropped}
 *       (reason), {@code wasi.messages.broadcast} (function counters, messages)
 *   <li>{@code wasi.guest.errors}, {@code wasi.guest.traps}, {@code wasi.guest.timeouts}, {@code wasi.guest.denied}
 *       (function counters)
 *   <li>{@code wasi.http.requests}, {@code wasi.http.errors}, {@code wasi.http.rejected} (function counters: HTTP
 *       requests a module handled, failed, refused)
 *   <li>{@code wasi.guest.calls} (function timer: messages handled and time in the guest)
 *   <li>{@code wasi.mailbox.depth} (gauge, messages), {@code wasi.module.memory} (gauge, bytes)
 *   <li>{@code wasi.module.loads} (timer, outcome = success | failure: first loads of a module) and
 *       {@code wasi.module.swaps} (timer, outcome: hot swaps of a serving module)
 *   <li>{@code wasi.module.rollbacks} (counter, cause = manual | probation: swaps back to the previous version)
 *   <li>{@code wasi.bus.published} (function counter: every message on the bus)
 *   <li>{@code wasi.subscriber.messages.dropped} (function counter, reason = mailbox-full | closed: messages that did
 *       not reach a Java subscriber, the event bridge included; not tagged by module)
 *   <li>{@code wasi.websocket.sessions} (gauge), {@code wasi.websocket.frames.sent},
 *       {@code wasi.websocket.frames.dropped}, {@code wasi.websocket.sessions.stalled},
 *       {@code wasi.websocket.replays} (outcome = recovered | reset), {@code wasi.websocket.sessions.lagging}
 * </ul>
 *
 * <p>A module's meters are registered when it first loads (or fails to) and removed from the registry when it is
 * unloaded: a module that comes back starts from zero, as its counters do. Nothing happens at construction:
 * {@link #bindTo} registers the meters and starts listening to the server; {@link #destroy} stops listening.
 *
 * <p>Threads: listener calls come from loader, watcher and worker threads; the per-module meter bookkeeping is
 * guarded by this object's monitor.
 */
public class WasiMetrics implements MeterBinder, DisposableBean {

    private static final String MODULE = "module";
    private static final String OUTCOME = "outcome";

    private final WasiServer server;
    private final @Nullable TopicFanOut webSocket;
    private final Listener listener = new Listener();
    /** Meters of each module, to remove them with it. Guarded by {@code this}. */
    private final Map<String, List<Meter>> modules = new HashMap<>();
    private @Nullable MeterRegistry registry;

    public WasiMetrics(WasiServer server, @Nullable TopicFanOut webSocket) {
        this.server = server;
        this.webSocket = webSocket;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        synchronized (this) {
            if (this.registry != null) {
                return; // bound once: the meters of one server live in one registry (Boot binds to the composite)
            }
            this.registry = registry;
        }
        server.addListener(listener);
        for (ModuleInfo m : server.modules()) {
            bindModule(m.name());
            if (server.module(m.name()).isEmpty()) {
                unloaded(m.name()); // unloaded between the snapshot and its binding
            }
        }
        FunctionCounter.builder("wasi.bus.published", server, WasiServer::publishedCount).baseUnit(BaseUnits.MESSAGES)
                .description("Messages published on the bus, by guests and the application").register(registry);
        for (DropReason reason : List.of(DropReason.MAILBOX_FULL, DropReason.CLOSED)) {
            FunctionCounter.builder("wasi.subscriber.messages.dropped", server,
                            s -> s.subscriberDrops().getOrDefault(reason, 0L))
                    .tag("reason", reason.tag()).baseUnit(BaseUnits.MESSAGES)
                    .description("Messages that did not reach a Java subscriber (the event bridge included)")
                    .register(registry);
        }
        TopicFanOut ws = webSocket;
        if (ws != null) {
            Gauge.builder("wasi.websocket.sessions", ws, TopicFanOut::sessionCount)
                    .description("Open WebSocket sessions").register(registry);
            FunctionCounter.builder("wasi.websocket.frames.sent", ws, h -> h.stats().framesSent())
                    .description("Frames written to WebSocket clients").register(registry);
            FunctionCounter.builder("wasi.websocket.frames.dropped", ws, h -> h.stats().framesDropped())
                    .tag("reason", "buffer-full")
                    .description("Frames dropped for a client whose send buffer was full").register(registry);
            FunctionCounter.builder("wasi.websocket.sessions.stalled", ws, h -> h.stats().stalledClosed())
                    .description("Sessions ended because a write to the client exceeded the send time limit").register(registry);
            FunctionCounter.builder("wasi.websocket.replays", ws, h -> h.stats().replaysRecovered())
                    .tag(OUTCOME, "recovered").baseUnit("sessions")
                    .description("Clients that connected with since= and got what they missed").register(registry);
            FunctionCounter.builder("wasi.websocket.replays", ws, h -> h.stats().replaysReset())
                    .tag(OUTCOME, "reset").baseUnit("sessions")
                    .description("Clients that connected with since= an offset that could not be resumed").register(registry);
            FunctionCounter.builder("wasi.websocket.sessions.lagging", ws, h -> h.stats().laggingClosed())
                    .description("Offsets-format sessions closed because they fell behind by more than their send buffer")
                    .register(registry);
        }
    }

    private synchronized void bindModule(String module) {
        MeterRegistry r = registry;
        if (r == null || modules.containsKey(module)) {
            return;
        }
        List<Meter> meters = new ArrayList<>();
        modules.put(module, meters);
        Tags tags = Tags.of(MODULE, module);
        meters.add(counter(r, "wasi.messages.published", "Messages the module published", tags, BaseUnits.MESSAGES,
                module, ModuleCounters::published));
        meters.add(counter(r, "wasi.messages.delivered", "Messages handed to the module without error", tags,
                BaseUnits.MESSAGES, module, ModuleCounters::delivered));
        meters.add(counter(r, "wasi.messages.broadcast", "ws_broadcast calls of the module", tags, BaseUnits.MESSAGES,
                module, ModuleCounters::broadcasts));
        meters.add(counter(r, "wasi.guest.errors", "Failed guest calls while handling a message", tags, null, module,
                ModuleCounters::errors));
        meters.add(counter(r, "wasi.guest.traps", "Guest traps while handling a message", tags, null, module,
                ModuleCounters::traps));
        meters.add(counter(r, "wasi.guest.timeouts", "Guest calls interrupted after the call timeout", tags, null,
                module, ModuleCounters::timeouts));
        meters.add(counter(r, "wasi.messages.dead-lettered", "Messages published to the dead-letter topic for the module: "
                + "those it failed on, and those that reached it while quarantined", tags, BaseUnits.MESSAGES, module,
                ModuleCounters::deadLettered));
        meters.add(counter(r, "wasi.guest.denied",
                "Calls and HTTP requests the module's capabilities refused (a call trapped; a request got 403)", tags, null, module, ModuleCounters::denied));
        meters.add(httpCounter(r, "wasi.http.requests", "HTTP requests the module was asked to handle", tags, module,
                HttpInfo::requests));
        meters.add(httpCounter(r, "wasi.http.errors", "HTTP requests that failed with an error of the module", tags,
                module, HttpInfo::errors));
        meters.add(httpCounter(r, "wasi.http.rejected", "HTTP requests refused because the module's mailbox was full",
                tags, module, HttpInfo::rejected));
        for (DropReason reason : DropReason.values()) {
            meters.add(counter(r, "wasi.messages.dropped", "Messages that did not reach the module",
                    tags.and("reason", reason.tag()), BaseUnits.MESSAGES, module, c -> c.dropped().getOrDefault(reason, 0L)));
        }
        meters.add(FunctionTimer.builder("wasi.guest.calls", server, s -> counters(s, module).calls(),
                        s -> counters(s, module).callNanos(), TimeUnit.NANOSECONDS)
                .tags(tags).description("Messages handled by the guest and the time spent in it").register(r));
        meters.add(Gauge.builder("wasi.mailbox.depth", server, s -> s.module(module).map(ModuleInfo::mailboxDepth).orElse(0))
                .tags(tags).baseUnit(BaseUnits.MESSAGES).description("Messages queued for the module").register(r));
        // NaN, Micrometer's "no value", for a module without memory (or none serving) rather than a misleading 0
        meters.add(Gauge.builder("wasi.module.memory", server, s -> s.module(module).map(ModuleInfo::memoryBytes)
                        .map(Long::doubleValue).orElse(Double.NaN))
                .tags(tags).baseUnit(BaseUnits.BYTES).description("Linear memory of the serving version").register(r));
    }

    private FunctionCounter counter(MeterRegistry registry, String name, String description, Tags tags,
            @Nullable String baseUnit, String module, ToLongFunction<ModuleCounters> value) {
        return FunctionCounter.builder(name, server, s -> value.applyAsLong(counters(s, module)))
                .tags(tags).baseUnit(baseUnit).description(description).register(registry);
    }

    private FunctionCounter httpCounter(MeterRegistry registry, String name, String description, Tags tags,
            String module, ToLongFunction<HttpInfo> value) {
        return FunctionCounter.builder(name, server, s -> s.module(module).map(m -> value.applyAsLong(m.http())).orElse(0L))
                .tags(tags).baseUnit("requests").description(description).register(registry);
    }

    private static ModuleCounters counters(WasiServer server, String module) {
        return server.module(module).map(ModuleInfo::counters).orElse(EMPTY);
    }

    private static final ModuleCounters EMPTY = new ModuleCounters(0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0, 0, 0, 0);

    private synchronized void loaded(String module, boolean swap, Duration took, String outcome) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        bindModule(module);
        Timer timer = Timer.builder(swap ? "wasi.module.swaps" : "wasi.module.loads")
                .description(swap ? "Hot swaps of a serving module, from reading the new version to its commit"
                        : "First loads of a module, from reading it to serving")
                .tags(MODULE, module, OUTCOME, outcome)
                .register(r);
        List<Meter> meters = modules.get(module);
        if (meters != null && !meters.contains(timer)) {
            meters.add(timer);
        }
        timer.record(took);
    }

    private synchronized void rolledBack(String module, boolean automatic) {
        MeterRegistry r = registry;
        if (r == null) {
            return;
        }
        bindModule(module);
        io.micrometer.core.instrument.Counter counter = io.micrometer.core.instrument.Counter.builder("wasi.module.rollbacks")
                .description("Swaps back to a module's previous version: asked for, or by its probation")
                .tags(MODULE, module, "cause", automatic ? "probation" : "manual")
                .register(r);
        List<Meter> meters = modules.get(module);
        if (meters != null && !meters.contains(counter)) {
            meters.add(counter);
        }
        counter.increment();
    }

    private synchronized void unloaded(String module) {
        MeterRegistry r = registry;
        List<Meter> meters = modules.remove(module);
        if (r != null && meters != null) {
            meters.forEach(r::remove);
        }
    }

    /** Stops listening to the server. */
    @Override
    public void destroy() {
        server.removeListener(listener);
    }

    private final class Listener implements WasiListener {
        @Override
        public void moduleLoaded(String module, boolean swap, Duration took) {
            loaded(module, swap, took, "success");
        }

        @Override
        public void moduleLoadFailed(String module, boolean swap, Duration took, WasiModuleException error) {
            loaded(module, swap, took, "failure");
        }

        @Override
        public void moduleRolledBack(String module, boolean automatic, String fromSha256, String toSha256, String reason) {
            rolledBack(module, automatic);
        }

        @Override
        public void moduleUnloaded(String module) {
            unloaded(module);
        }
    }
}
