package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.bus.Mailbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The lanes that carry one module's HTTP requests: its own mailbox (lane 0, the serving instance, in turn with the
 * bus's messages) and, with {@code http.pool-size} N > 1, N - 1 more, each a mailbox of its own served by an extra
 * instance of the same version. A request goes to the lane with the fewest requests queued or running (ties in
 * turn), so N requests at once run on N instances in parallel. The extra instances are made, replaced and drained
 * with the serving one ({@link ModuleSlot} does it under its swap lock); they never receive bus messages.
 *
 * <p>Threads: {@link #offer} from any thread; {@link #install}, {@link #pause}, {@link #resume}, {@link #close} by the
 * thread holding the slot's swap lock. Each lane's instance is volatile: written with the lane paused (or before it
 * gets work), read by its worker.
 */
final class HttpPool {

    private final ModuleSlot slot;
    private final Mailbox primary;
    private final AtomicInteger primaryInFlight = new AtomicInteger();
    private final Lane[] extras;
    private final AtomicInteger turn = new AtomicInteger();
    /** Whether the extra lanes have instances (the serving version answers HTTP). */
    private volatile boolean active;

    HttpPool(ModuleSlot slot, Mailbox primary, int size, int capacity, Executor executor) {
        this.slot = slot;
        this.primary = primary;
        this.extras = new Lane[Math.max(0, size - 1)];
        for (int i = 0; i < extras.length; i++) {
            extras[i] = new Lane(capacity, executor);
        }
    }

    /** How many instances answer HTTP when the serving version does: the pool size. */
    int size() {
        return extras.length + 1;
    }

    /** Queues {@code work} on the least busy lane; never waits. */
    Mailbox.Offer offer(HttpWork work) {
        if (!active) {
            work.queuedIn(primaryInFlight);
            return primary.offerWork(work);
        }
        int lanes = extras.length + 1;
        int start = Math.floorMod(turn.getAndIncrement(), lanes);
        int best = -1;
        int least = Integer.MAX_VALUE;
        for (int k = 0; k < lanes; k++) {
            int i = (start + k) % lanes;
            int n = i == 0 ? primaryInFlight.get() : extras[i - 1].inFlight.get();
            if (n < least) {
                least = n;
                best = i;
            }
        }
        if (best == 0) {
            work.queuedIn(primaryInFlight);
            return primary.offerWork(work);
        }
        Lane lane = extras[best - 1];
        work.queuedIn(lane.inFlight);
        return lane.mailbox.offerWork(work);
    }

    /** The extra instances serving now (empty when the pool size is 1 or the serving version does not answer HTTP). */
    List<WasmModule> instances() {
        List<WasmModule> all = new ArrayList<>();
        for (Lane l : extras) {
            if (l.instance != null) {
                all.add(l.instance);
            }
        }
        return all;
    }

    /** Installs the extra instances of a new version ({@link #size()} - 1 of them, or none); call with the lanes paused. */
    void install(List<WasmModule> instances) {
        for (int i = 0; i < extras.length; i++) {
            extras[i].instance = i < instances.size() ? instances.get(i) : null;
        }
        active = extras.length > 0 && !instances.isEmpty();
    }

    /** Pauses every extra lane; returns whether all are idle within {@code timeout}. */
    boolean pause(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean idle = true;
        for (Lane l : extras) {
            idle &= l.mailbox.pause(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        return idle;
    }

    void resume() {
        for (Lane l : extras) {
            l.mailbox.resume();
        }
    }

    /** Waits, up to {@code timeout} in all, until the extra lanes have answered what they queued. */
    boolean awaitEmpty(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean empty = true;
        for (Lane l : extras) {
            empty &= l.mailbox.awaitEmpty(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
        return empty;
    }

    /** Closes the extra lanes: requests still queued there are answered 503. */
    void close() {
        active = false;
        for (Lane l : extras) {
            l.mailbox.close();
        }
    }

    /** Requests queued in the extra lanes. */
    int depth() {
        int n = 0;
        for (Lane l : extras) {
            n += l.mailbox.depth();
        }
        return n;
    }

    /** One extra lane: a mailbox served by one extra instance. */
    private final class Lane implements Mailbox.Handler {
        final Mailbox mailbox;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile @Nullable WasmModule instance;

        Lane(int capacity, Executor executor) {
            this.mailbox = new Mailbox(capacity, executor, this);
        }

        @Override
        public void handle(Message message) {
            throw new IllegalStateException("an HTTP lane never receives bus messages");
        }

        @Override
        public void handle(Mailbox.Work work) {
            slot.serveHttp(instance, (HttpWork) work, true);
        }

        @Override
        public void batchStart() {
            slot.batchStart();
        }

        @Override
        public void batchDone(int count, long nanos) {
            slot.laneBatchDone(nanos); // not batchDone: its per-batch counts belong to the slot's own worker
        }
    }
}
