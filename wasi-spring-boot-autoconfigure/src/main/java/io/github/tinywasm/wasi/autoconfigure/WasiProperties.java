package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.Engine;
import io.github.tinywasm.wasi.OverflowPolicy;
import io.github.tinywasm.wasi.WasiConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties of tinywasm-wasi, bound from {@code tinywasm.wasi.*}. Every value is checked when
 * it is bound; a bad one stops start-up with a message naming the property.
 *
 * @param enabled Whether to host WebAssembly modules at all.
 * @param modulesDir Folder whose *.wasm files are loaded as modules (users.wasm becomes module "users"). Created
 *     at start-up if missing.
 * @param watch Whether to load, hot-swap and unload modules when files in the modules folder change.
 * @param watchQuietPeriod How long a changed module file must stay unchanged before it is loaded, so that a file
 *     still being written is never loaded half-way.
 * @param watchPollInterval How often the modules folder is rescanned, as a fallback for missed file-system
 *     events.
 * @param drainTimeout How long a module's drain() may report work in flight during a swap or shutdown; keep it
 *     below spring.lifecycle.timeout-per-shutdown-phase.
 * @param engine How guest code runs: "compiler" (JVM bytecode, fast) or "interpreter".
 * @param mailbox Per-module mailbox settings.
 * @param maxMemory Most linear memory one module may grow to (0 = the module's own maximum).
 * @param callTimeout Longest one guest call may run before it is interrupted (0 = no limit).
 * @param workerThreads Threads shared by all module mailboxes (0 = one per CPU core, at least 2).
 * @param preopenedDirs Host folders pre-opened for guests through WASI, by guest path. Empty: no file-system
 *     access.
 * @param websocket WebSocket endpoint settings.
 * @param events ApplicationEvent bridge settings.
 */
@ConfigurationProperties("tinywasm.wasi")
public record WasiProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("modules") Path modulesDir,
        @DefaultValue("true") boolean watch,
        @DefaultValue("300ms") Duration watchQuietPeriod,
        @DefaultValue("2s") Duration watchPollInterval,
        @DefaultValue("10s") Duration drainTimeout,
        @DefaultValue("compiler") Engine engine,
        @DefaultValue Mailbox mailbox,
        @DefaultValue("256MB") DataSize maxMemory,
        @DefaultValue("10s") Duration callTimeout,
        @DefaultValue("0") int workerThreads,
        Map<String, Path> preopenedDirs,
        @DefaultValue WebSocket websocket,
        @DefaultValue Events events) {

    private static final String PREFIX = "tinywasm.wasi.";

    public WasiProperties {
        preopenedDirs = preopenedDirs != null ? Map.copyOf(preopenedDirs) : Map.of();
        positive("watch-quiet-period", watchQuietPeriod);
        positive("watch-poll-interval", watchPollInterval);
        notNegative("drain-timeout", drainTimeout);
        notNegative("call-timeout", callTimeout);
        require(workerThreads >= 0, "worker-threads", workerThreads, "must be 0 (one per core) or more");
        long bytes = maxMemory.toBytes();
        require(bytes == 0 || (bytes >= WasiConfig.PAGE_SIZE && bytes <= 4L * 1024 * 1024 * 1024), "max-memory", maxMemory,
                "must be 0 (no limit) or between 64KB and 4GB");
    }

    /**
     * Per-module mailbox.
     *
     * @param capacity Most messages queued for one module (or Java subscriber).
     * @param overflow What a publisher does when a mailbox is full: "block" (up to publish-timeout, then drop) or
     *     "drop". Drops are always counted.
     * @param publishTimeout How long a publisher blocks on a full mailbox under overflow=block.
     */
    public record Mailbox(
            @DefaultValue("10000") int capacity,
            @DefaultValue("block") OverflowPolicy overflow,
            @DefaultValue("1s") Duration publishTimeout) {

        public Mailbox {
            require(capacity >= 1, "mailbox.capacity", capacity, "must be at least 1");
            notNegative("mailbox.publish-timeout", publishTimeout);
        }
    }

    /**
     * WebSocket endpoint that pushes guests' ws_broadcast frames to browsers.
     *
     * @param enabled Whether to register the WebSocket endpoint (servlet web applications only).
     * @param path Path of the endpoint; clients connect to PATH?topic=NAME.
     * @param allowedOrigins Origins allowed to connect (e.g. https://app.example.com, or * for any). Empty: same
     *     origin only.
     * @param sendBufferSize Most bytes queued for one client; frames beyond it are dropped for that client only, and
     *     counted.
     * @param sendTimeLimit Longest one frame may take to reach a client before the session is closed as stalled.
     * @param maxInboundMessageSize Largest frame a client may send; the endpoint does not expect any, and closes a
     *     session that sends more (1009).
     */
    public record WebSocket(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("/ws") String path,
            List<String> allowedOrigins,
            @DefaultValue("512KB") DataSize sendBufferSize,
            @DefaultValue("10s") Duration sendTimeLimit,
            @DefaultValue("8KB") DataSize maxInboundMessageSize) {

        public WebSocket {
            allowedOrigins = allowedOrigins != null ? List.copyOf(allowedOrigins) : List.of();
            require(path != null && path.startsWith("/") && !path.contains("?"), "websocket.path", path,
                    "must start with '/' and have no query");
            require(sendBufferSize.toBytes() > 0 && sendBufferSize.toBytes() <= Integer.MAX_VALUE,
                    "websocket.send-buffer-size", sendBufferSize, "must be between 1B and 2GB");
            positive("websocket.send-time-limit", sendTimeLimit);
            require(maxInboundMessageSize.toBytes() > 0 && maxInboundMessageSize.toBytes() <= Integer.MAX_VALUE,
                    "websocket.max-inbound-message-size", maxInboundMessageSize, "must be between 1B and 2GB");
        }
    }

    /**
     * Bridge between the bus and Spring ApplicationEvents.
     *
     * @param enabled Whether guest messages are published as WasiMessageEvent and WasiOutboundMessage events are
     *     published to guests.
     */
    public record Events(@DefaultValue("true") boolean enabled) {}

    /** The engine configuration these properties describe. */
    public WasiConfig toConfig() {
        WasiConfig.Builder b = WasiConfig.builder()
                .modulesDir(modulesDir)
                .watch(watch)
                .watchQuietPeriod(watchQuietPeriod)
                .watchPollInterval(watchPollInterval)
                .drainTimeout(drainTimeout)
                .engine(engine)
                .mailboxCapacity(mailbox.capacity())
                .overflowPolicy(mailbox.overflow())
                .publishTimeout(mailbox.publishTimeout())
                .maxMemoryBytes(maxMemory.toBytes())
                .callTimeout(callTimeout)
                .directories(preopenedDirs);
        if (workerThreads > 0) {
            b.workerThreads(workerThreads);
        }
        return b.build();
    }

    private static void positive(String name, Duration d) {
        require(d != null && !d.isNegative() && !d.isZero(), name, d, "must be a positive duration");
    }

    private static void notNegative(String name, Duration d) {
        require(d != null && !d.isNegative(), name, d, "must not be negative");
    }

    private static void require(boolean ok, String name, Object value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(PREFIX + name + " " + rule + " (was " + value + ")");
        }
    }
}
