package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.deploy.CompileCache;
import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import io.github.tinywasm.wasi.bus.TopicBus;
import java.util.concurrent.Executor;

/**
 * What a {@link ModuleSlot} uses of the server that owns it. The server builds one and shares it between its
 * slots; every part is thread-safe.
 *
 * @param config the server's configuration
 * @param bus the topic bus
 * @param executor the worker pool that serves the mailboxes
 * @param watchdog interrupts guest calls past the call timeout
 * @param broadcaster receives guests' {@code ws_broadcast}
 * @param listeners hears loads, swaps, unloads and guest errors (never throws)
 * @param interceptor hooks around deliveries, for observations
 * @param compileCache compiled versions, kept for redeploys, rollbacks and restarts
 */
public record SlotContext(
        WasiConfig config,
        TopicBus bus,
        Executor executor,
        CallWatchdog watchdog,
        WebSocketBroadcaster broadcaster,
        WasiListener listeners,
        BusInterceptor interceptor,
        CompileCache<WasmModule.Compiled> compileCache) {}
