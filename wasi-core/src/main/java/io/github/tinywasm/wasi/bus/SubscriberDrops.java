package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.DropReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drops of every Java subscription of one server (the Spring event bridge included), by reason: a full mailbox
 * ({@link DropReason#MAILBOX_FULL}) or a subscription closed with messages still queued ({@link DropReason#CLOSED}).
 * Cumulative, like a module's counters; a drop is logged at most once per 10 s with the running total.
 *
 * <p>Threads: any thread counts (publishers, subscriber workers, the closing thread); counters are {@link LongAdder}s.
 */
public final class SubscriberDrops {

    private static final Logger log = LoggerFactory.getLogger(SubscriberDrops.class);
    private static final long WARN_INTERVAL = TimeUnit.SECONDS.toNanos(10);

    private final LongAdder full = new LongAdder();
    private final LongAdder closed = new LongAdder();
    private final AtomicLong lastWarn = new AtomicLong();

    /** Counts {@code count} messages dropped for the Java subscriber of {@code topic} ({@code *}: every topic). */
    void dropped(String topic, DropReason reason, long count) {
        if (count <= 0) {
            return;
        }
        LongAdder adder = reason == DropReason.MAILBOX_FULL ? full : closed;
        adder.add(count);
        long now = System.nanoTime();
        long last = lastWarn.get();
        if ((last == 0 || now - last > WARN_INTERVAL) && lastWarn.compareAndSet(last, now)) {
            log.warn("Java subscriber of '{}' dropped {} message(s) ({}); Java subscribers' drops for this reason so far: {}",
                    topic, count, reason.tag(), adder.sum());
        }
    }

    /** Messages dropped for Java subscribers so far, by reason ({@code mailbox-full} and {@code closed}). */
    public Map<DropReason, Long> snapshot() {
        Map<DropReason, Long> m = new EnumMap<>(DropReason.class);
        m.put(DropReason.MAILBOX_FULL, full.sum());
        m.put(DropReason.CLOSED, closed.sum());
        return m;
    }
}
