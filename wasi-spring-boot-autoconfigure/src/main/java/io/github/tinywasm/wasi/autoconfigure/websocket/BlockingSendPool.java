package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A fixed set of sender threads ({@code wasi-ws-send-N}) for the JSR-356 container's blocking sends, which are
 * about twice as fast as its asynchronous ones (the container hands every asynchronous completion to another
 * thread, frame by frame). A blocking send is only ever a fast path, never the only way out:
 * <ul>
 *   <li>the pool never grows, so however many clients stall, at most {@link #size()} threads can wait in a send;
 *   <li>a send that waits longer than {@link #PINNED_MILLIS} marks its client slow, and a slow client is written
 *       asynchronously from then on (see {@link JsrClientChannel});
 *   <li>so does a turn whose sends wait longer than that in all (many sends of a few ms each: a slow link), so one
 *       client holds a sender for about {@link #PINNED_MILLIS} at most;
 *   <li>while every sender waits in a send that long, the pool is saturated: new batches go out asynchronously,
 *       and a watch ({@code wasi-ws-send-watch}, every {@link #WATCH_MILLIS} ms) moves queued batches to the
 *       asynchronous path too; it also moves every batch that has waited in the queue longer than
 *       {@link #QUEUED_MILLIS} (the senders are busy with slow clients that are not yet known as such). So healthy
 *       clients wait tens of milliseconds at most, never a send time limit.
 * </ul>
 *
 * <p>Threads are started on first use. Each sender publishes the start of its current send in
 * {@code sendingSince} (0 when not sending), which the watch and {@link #trySubmit} read.
 */
final class BlockingSendPool {

    /** A send waiting this long pins its thread: its client is slow. */
    static final long PINNED_MILLIS = 100;
    /** How often the watch checks for a saturated pool. */
    static final long WATCH_MILLIS = 10;
    /** A batch queued this long for a sender goes out asynchronously instead. */
    static final long QUEUED_MILLIS = 50;

    /** A batch the pool can write blocking on a sender, or hand to the asynchronous path. */
    interface Task extends Runnable {
        /** Writes asynchronously instead: the pool is saturated. */
        void runAsync();
    }

    private final int size;
    private final AtomicLongArray sendingSince;
    private final ThreadLocal<Integer> slot = new ThreadLocal<>();
    private final ThreadPoolExecutor senders;
    private final ScheduledExecutorService watch;
    private final AtomicBoolean watching = new AtomicBoolean();

    BlockingSendPool(int size) {
        this.size = size;
        this.sendingSince = new AtomicLongArray(size);
        AtomicInteger ids = new AtomicInteger();
        this.senders = new ThreadPoolExecutor(size, size, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            int id = ids.getAndIncrement();
            Thread t = new Thread(() -> {
                slot.set(id);
                r.run();
            }, "wasi-ws-send-" + (id + 1));
            t.setDaemon(true);
            return t;
        });
        this.watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "wasi-ws-send-watch");
            t.setDaemon(true);
            return t;
        });
    }

    int size() {
        return size;
    }

    /** Queues {@code task} for a sender, or returns false when every sender is pinned (the caller goes async). */
    boolean trySubmit(Task task) {
        try {
            if (watching.compareAndSet(false, true)) {
                watch.scheduleWithFixedDelay(this::rescue, WATCH_MILLIS, WATCH_MILLIS, TimeUnit.MILLISECONDS);
            }
            if (saturated()) {
                return false;
            }
            senders.execute(new Queued(task, System.nanoTime()));
            return true;
        } catch (RejectedExecutionException e) {
            return false; // shut down: the caller writes asynchronously
        }
    }

    /** Marks the calling sender as waiting in a send since now; {@link #sent()} ends it. */
    void sending() {
        Integer id = slot.get();
        if (id != null) {
            sendingSince.set(id, System.nanoTime());
        }
    }

    /** The calling sender's send ended; returns how long it took, in nanoseconds (0 off the pool). */
    long sent() {
        Integer id = slot.get();
        if (id == null) {
            return 0;
        }
        long took = System.nanoTime() - sendingSince.get(id);
        sendingSince.set(id, 0);
        return took;
    }

    boolean saturated() {
        long now = System.nanoTime();
        long pinned = TimeUnit.MILLISECONDS.toNanos(PINNED_MILLIS);
        for (int i = 0; i < size; i++) {
            long since = sendingSince.get(i);
            if (since == 0 || now - since < pinned) {
                return false;
            }
        }
        return true;
    }

    /**
     * While saturated, hands every queued batch to the asynchronous path; otherwise those that waited longer than
     * {@link #QUEUED_MILLIS} (the queue is in order: the oldest first).
     */
    private void rescue() {
        if (senders.getQueue().isEmpty()) {
            return;
        }
        List<Runnable> queued = new ArrayList<>();
        if (saturated()) {
            senders.getQueue().drainTo(queued);
        } else {
            long now = System.nanoTime();
            long limit = TimeUnit.MILLISECONDS.toNanos(QUEUED_MILLIS);
            for (Runnable r : senders.getQueue()) {
                if (now - ((Queued) r).at() <= limit) {
                    break;
                }
                if (senders.getQueue().remove(r)) { // else a sender took it meanwhile
                    queued.add(r);
                }
            }
        }
        for (Runnable r : queued) {
            try {
                ((Queued) r).task().runAsync();
            } catch (RuntimeException e) {
                TopicFanOut.log.warn("WebSocket send rescue failed: {}", e.toString(), e);
            }
        }
    }

    /** A batch in the senders' queue, since {@code at} ({@link System#nanoTime()}). */
    private record Queued(Task task, long at) implements Runnable {
        @Override
        public void run() {
            task.run();
        }
    }

    /** Stops the threads; a sender waiting in a send is interrupted, which fails that send. */
    void shutdown() {
        watch.shutdownNow();
        senders.shutdownNow();
    }
}
