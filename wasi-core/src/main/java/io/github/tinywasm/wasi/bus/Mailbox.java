package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.OverflowPolicy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A bounded queue of messages served by one logical worker: a serial executor over a shared pool. Messages
 * are handed to the {@link Handler} one at a time, in the order they were offered, never on the offering
 * thread. Other work for the same handler ({@link Work}: an HTTP request for a module) queues in the same order, so
 * that the handler sees messages and work one at a time, in one order; it never waits for room
 * ({@link #offerWork}).
 *
 * <p>Threads and locks: everything below is guarded by {@code lock}. At most one drain task is scheduled or running
 * at a time ({@code scheduled}); it takes up to {@value #BATCH} messages per lock acquisition (the same acquisition
 * puts back what a pause left of the previous batch) and hands them to the handler outside the lock, re-submitting
 * itself after {@value #MAX_BATCHES_PER_RUN} batches when the pool has other work queued, so that one busy mailbox
 * cannot monopolise a pool thread. {@link #pause(Duration)} stops the worker between two messages (the rest of a
 * batch goes back to the head of the queue) and returns once the handler is idle, so that the caller may use what
 * the handler uses; until {@link #resume()} the pausing thread counts as this mailbox's worker.
 *
 * <p>Backpressure ({@link OverflowPolicy#BLOCK}) never deadlocks, and never drops from a cycle of healthy
 * subscribers fed by outside publishers:
 * <ul>
 * <li>A publisher blocked on a full mailbox waits through {@link ForkJoinPool#managedBlock}, so a worker pool that
 * is a {@link ForkJoinPool} adds a thread meanwhile: the consumer always gets a worker to take its next batch,
 * which makes room.
 * <li>A publisher never waits for itself. The consumer takes a batch off its queue before handling it, so a
 * consumer whose worker is blocked publishing makes no room until that publish returns. A worker publishing to
 * its own full mailbox (the thread that paused a mailbox counts as its worker), or to one whose worker waits,
 * through a chain of blocked publishes ({@code waitingFor}), for the publisher's own mailbox, would wait for
 * itself: such a publish is accepted beyond the capacity. Each blocked worker records the mailbox it waits for
 * before it looks for a cycle, so of two workers closing a cycle at the same time at least one sees it.
 * <li>A cycle let in beyond its capacity is congested: until the mailbox it overfilled is back under its capacity,
 * publishers from outside (threads that serve no mailbox: the application) wait to enter the cycle through the
 * mailbox whose worker overfilled it ({@code congestedBy}). So a cycle of two mailboxes fed from outside never holds
 * more than both capacities plus the two batches in flight, and the allowance beyond the capacity
 * ({@code capacity + 2 * BATCH}) is never exhausted unless guests publish more than one message per message they
 * handle, or other guests feed the cycle. Past the allowance a publish is refused as {@link Offer#FULL}.
 * </ul>
 */
public final class Mailbox {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Mailbox.class);

    static final int BATCH = 256;
    private static final int MAX_BATCHES_PER_RUN = 16;
    /** Tries of a publisher for the lock before it waits for it ({@link #lockAsPublisher}). */
    private static final int PUBLISHER_SPINS = 200;
    /** Longest chain of blocked publishers followed when looking for a cycle. */
    private static final int MAX_CHAIN = 64;
    /** How often a publisher held back by a congested cycle (which signals nothing here) looks again. */
    private static final long CONGESTION_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The mailbox whose handler the current thread runs: its worker, or the thread that paused it. */
    private static final ThreadLocal<Mailbox> SERVING = new ThreadLocal<>();

    /** Result of an offer. */
    public enum Offer { ACCEPTED, FULL, CLOSED }

    /**
     * Work other than a message, queued with the messages and handed to {@link Handler#handle(Work)} in turn. It is
     * told when it will never run ({@link #abandoned()}), so that whoever waits for it gets an answer.
     */
    public interface Work {
        /**
         * The mailbox was closed with this work still queued (or in a batch left over after the item in hand): it will
         * never run. Called once, on the closing thread or the worker, never under the mailbox's lock. Must not throw.
         */
        void abandoned();
    }

    /** Called on the worker thread, one message at a time. Must not throw. */
    public interface Handler {
        void handle(Message message);

        /** Runs work queued with {@link #offerWork}; by default the handler takes none, and the work is abandoned. */
        default void handle(Work work) {
            work.abandoned();
        }

        /** Before a batch, on the worker thread (e.g. to set the logging context). */
        default void batchStart() {}

        /** After a batch: how many messages were handled and how long the handler took in all. */
        default void batchDone(int count, long nanos) {}

        /**
         * Messages of a batch in progress when the mailbox was closed, left over after the message in hand: dropped
         * (on the worker thread). {@link #close()} returns only those still queued.
         */
        default void droppedAfterClose(int count) {}
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition idle = lock.newCondition();
    /** {@link Message}s and {@link Work}, in the order offered. */
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final int capacity;
    /**
     * Queue length at or under which the worker wakes publishers waiting for room: half the capacity, so that a
     * publisher faster than its consumer wakes once per half a mailbox rather than once per batch (each wake-up costs
     * the worker, the thread running the guest, a futex call) while the worker still has half a mailbox to handle
     * before it could run dry. A waiting publisher whose time runs out still takes any room there is: it looks at the
     * queue, not at the signal.
     */
    private final int lowWater;
    /** Publishers waiting on {@code notFull}. */
    private int roomWaiters;
    /** Most messages the queue holds for publishers that would otherwise wait for themselves. */
    private final int limit;
    private final Executor executor;
    private final Handler handler;
    private final Runnable task = this::run;

    private boolean scheduled;
    private boolean running;
    private volatile boolean paused;
    private boolean closed;
    /** The thread that paused this mailbox, until it resumes or closes it. */
    private @Nullable Thread pauser;
    /** Whether the queue was let in beyond its capacity and has not been back under it since. */
    private volatile boolean overCapacity;
    /** The last mailbox this one's worker let itself into beyond its capacity (written by that worker). */
    private volatile @Nullable Mailbox congestedBy;
    /** The mailbox this one's worker is blocked publishing to, or null (written by that worker). */
    private volatile @Nullable Mailbox waitingFor;

    public Mailbox(int capacity, Executor executor, Handler handler) {
        this.capacity = capacity;
        this.limit = 2 * capacity + 2 * BATCH;
        this.lowWater = capacity - Math.max(1, capacity / 2);
        this.executor = executor;
        this.handler = handler;
    }

    /**
     * Queues a message. When full, {@link OverflowPolicy#BLOCK} waits up to {@code blockTimeout} for room, except
     * for a publisher that would wait for itself (see the class comment); {@link OverflowPolicy#DROP} refuses it.
     */
    public Offer offer(Message message, OverflowPolicy policy, Duration blockTimeout) {
        boolean submit;
        lockAsPublisher();
        try {
            if (closed) {
                return Offer.CLOSED;
            }
            if (policy == OverflowPolicy.DROP) {
                if (queue.size() >= capacity) {
                    return Offer.FULL;
                }
            } else if (queue.size() >= capacity || congested()) {
                // The thread that paused this mailbox is its worker until it resumes, even when it serves another
                // mailbox too (a Java subscriber that swaps a module): it must never wait for itself.
                Mailbox self = pauser == Thread.currentThread() ? this : SERVING.get();
                if (mustWait(self)) {
                    Offer refused = whenNoRoom(blockTimeout, self);
                    if (refused != null) {
                        return refused;
                    }
                }
            }
            queue.addLast(message);
            submit = !scheduled && !paused;
            if (submit) {
                scheduled = true;
            }
        } finally {
            lock.unlock();
        }
        if (submit) {
            schedule();
        }
        return Offer.ACCEPTED;
    }

    /**
     * Queues work (an HTTP request) behind the messages and work already queued. Never waits: a mailbox holding its
     * capacity refuses it at once ({@link Offer#FULL}), and a closed one with {@link Offer#CLOSED}; the caller answers
     * for it then. Accepted work runs, or is {@linkplain Work#abandoned() abandoned} if the mailbox closes first.
     */
    public Offer offerWork(Work work) {
        boolean submit;
        lock.lock();
        try {
            if (closed) {
                return Offer.CLOSED;
            }
            if (queue.size() >= capacity) {
                return Offer.FULL;
            }
            queue.addLast(work);
            submit = !scheduled && !paused;
            if (submit) {
                scheduled = true;
            }
        } finally {
            lock.unlock();
        }
        if (submit) {
            schedule();
        }
        return Offer.ACCEPTED;
    }

    /**
     * Takes the lock for a publisher. The worker holds it only to take a batch (a few hundred pointer moves); a
     * publisher that finds it taken then and parks makes the worker pay a futex call to wake it, on the thread that
     * runs the guest. Trying a few times first lets the batch go by.
     */
    private void lockAsPublisher() {
        for (int i = 0; i < PUBLISHER_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    /** Whether a publisher serving {@code self} (null: none) must wait; with the lock held. */
    private boolean mustWait(@Nullable Mailbox self) {
        return queue.size() >= capacity || (self == null && congested());
    }

    private boolean congested() {
        Mailbox c = congestedBy;
        return c != null && c.overCapacity;
    }

    /** With the lock held and no room for this publisher: {@code null} to queue the message after all, or why not. */
    private @Nullable Offer whenNoRoom(Duration blockTimeout, @Nullable Mailbox self) {
        if (self == this) {
            return beyondCapacity(self);
        }
        long nanos = blockTimeout.toNanos();
        if (self != null) {
            self.waitingFor = this; // before looking for a cycle: see the class comment
        }
        try {
            while (mustWait(self)) {
                if (closed) {
                    return Offer.CLOSED;
                }
                if (self != null && waitsFor(self)) {
                    return beyondCapacity(self);
                }
                if (nanos <= 0) {
                    return Offer.FULL;
                }
                long slice = queue.size() < capacity ? Math.min(nanos, CONGESTION_POLL_NANOS) : nanos;
                RoomWait wait = new RoomWait(slice, self);
                roomWaiters++;
                try {
                    ForkJoinPool.managedBlock(wait);
                } finally {
                    roomWaiters--;
                }
                nanos -= slice - wait.nanos;
            }
            return closed ? Offer.CLOSED : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Offer.FULL;
        } finally {
            if (self != null) {
                self.waitingFor = null;
            }
        }
    }

    /** Lets in a publisher that would otherwise wait for itself, up to the limit; with the lock held. */
    private @Nullable Offer beyondCapacity(Mailbox publisher) {
        if (queue.size() >= limit) {
            return Offer.FULL;
        }
        overCapacity = true;
        if (publisher != this) {
            publisher.congestedBy = this;
        }
        return null;
    }

    /** Whether this mailbox's worker waits, through a chain of blocked publishes, for {@code publisher}'s own. */
    private boolean waitsFor(Mailbox publisher) {
        Mailbox m = waitingFor;
        for (int hops = 0; m != null && hops < MAX_CHAIN; hops++) {
            if (m == publisher) {
                return true;
            }
            m = m.waitingFor;
        }
        return false;
    }

    /** One wait for room, through {@link ForkJoinPool#managedBlock}; the caller holds the lock. */
    private final class RoomWait implements ForkJoinPool.ManagedBlocker {
        private final @Nullable Mailbox self;
        private long nanos;
        private boolean waited;

        RoomWait(long nanos, @Nullable Mailbox self) {
            this.nanos = nanos;
            this.self = self;
        }

        @Override
        public boolean block() throws InterruptedException {
            nanos = notFull.awaitNanos(nanos);
            waited = true;
            return true;
        }

        @Override
        public boolean isReleasable() {
            return waited || closed || nanos <= 0 || !mustWait(self);
        }
    }

    private void schedule() {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            lock.lock();
            try {
                scheduled = false;
                idle.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void run() {
        Mailbox outer = SERVING.get();
        SERVING.set(this);
        @Nullable Object[] batch = new Object[BATCH];
        int n = 0; // the batch in hand: n items taken, the first `done` of them handled
        int done = 0;
        boolean again = false;
        try {
            for (int round = 0; ; round++) {
                boolean mayGoOn = round < MAX_BATCHES_PER_RUN || noOtherWork();
                int late = 0;
                List<Work> abandoned = null;
                boolean exit = false;
                // One lock acquisition per batch: it settles the batch just handled and takes the next one, so the
                // publishers' lock sees the worker once per batch, not twice.
                lock.lock();
                try {
                    for (int i = n - 1; i >= done; i--) {
                        if (!closed) {
                            queue.addFirst(batch[i]);
                        } else if (batch[i] instanceof Work w) {
                            abandoned = add(abandoned, w);
                        } else {
                            late++;
                        }
                        batch[i] = null;
                    }
                    n = 0;
                    if (paused || queue.isEmpty() || !mayGoOn) {
                        running = false;
                        if (paused || queue.isEmpty()) {
                            scheduled = false;
                        } else {
                            again = true; // a full run with work left: yield the pool thread and come back
                        }
                        idle.signalAll();
                        exit = true;
                    } else {
                        while (n < BATCH && !queue.isEmpty()) {
                            batch[n++] = queue.pollFirst();
                        }
                        if (overCapacity && queue.size() < capacity) {
                            overCapacity = false;
                        }
                        running = true;
                        if (roomWaiters > 0 && queue.size() <= lowWater) {
                            notFull.signalAll();
                        }
                    }
                } finally {
                    lock.unlock();
                }
                if (late > 0) {
                    handler.droppedAfterClose(late);
                }
                abandon(abandoned);
                if (exit) {
                    break;
                }
                done = 0;
                handler.batchStart();
                long t0 = System.nanoTime();
                while (done < n && !paused) {
                    Object item = batch[done];
                    batch[done++] = null;
                    try {
                        if (item instanceof Message m) { // a final class: one pointer compare on the bus's hot path
                            handler.handle(m);
                        } else {
                            handler.handle((Work) item);
                        }
                    } catch (Throwable t) {
                        // a bug in a handler must not leave this mailbox stuck with `running` set
                        log.error("a mailbox handler failed on {}; delivery goes on", item instanceof Message m
                                ? "a message of topic '" + m.topic() + "'" : "work " + item, t);
                    }
                }
                handler.batchDone(done, System.nanoTime() - t0);
            }
        } finally {
            if (outer != null) {
                SERVING.set(outer);
            } else {
                SERVING.remove();
            }
        }
        if (again) {
            schedule();
        }
    }

    /**
     * Whether the pool has nothing else queued, so that a busy mailbox may go on past {@value #MAX_BATCHES_PER_RUN}
     * batches on the same thread: yielding then would only hand this task to another thread (waking it, and leaving
     * this one to park) for nothing. Asked once per batch past the limit; any executor other than a
     * {@link ForkJoinPool} always gets the thread back.
     */
    private boolean noOtherWork() {
        return executor instanceof ForkJoinPool pool && !pool.hasQueuedSubmissions() && pool.getQueuedTaskCount() == 0;
    }

    /**
     * Stops delivery after the message being handled and waits, up to {@code timeout}, until the handler is idle.
     * The mailbox stays paused either way; until {@link #resume()} or {@link #close()} (on this same thread), the
     * calling thread counts as the mailbox's worker: it may use what the handler uses, and its own publishes to
     * this mailbox never wait.
     *
     * @return whether the handler is idle
     */
    public boolean pause(Duration timeout) {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            paused = true;
            if (pauser == null) {
                pauser = Thread.currentThread();
                if (SERVING.get() == null) {
                    SERVING.set(this);
                }
            }
            while (running) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = idle.awaitNanos(nanos);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !running;
        } finally {
            lock.unlock();
        }
    }

    /** Ends a pause: the pausing thread stops counting as this mailbox's worker. */
    private void releasePauser() {
        if (pauser == Thread.currentThread() && SERVING.get() == this) {
            SERVING.remove();
        }
        pauser = null;
    }

    /** Resumes delivery of queued and new messages. */
    public void resume() {
        boolean submit;
        lock.lock();
        try {
            paused = false;
            releasePauser();
            submit = !scheduled && !queue.isEmpty() && !closed;
            if (submit) {
                scheduled = true;
            }
        } finally {
            lock.unlock();
        }
        if (submit) {
            schedule();
        }
    }

    /**
     * Waits until every queued message has been handled (or the mailbox is paused with messages left), up to
     * {@code timeout}. Returns whether the queue is empty. On the mailbox's own worker it returns false at once: the
     * worker is busy in this call, and what is queued could only be handled after it returns.
     */
    public boolean awaitEmpty(Duration timeout) {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            if (SERVING.get() == this) {
                // Called by this mailbox's own worker (a consumer closing what it consumes): it would wait for itself.
                return false;
            }
            while ((!queue.isEmpty() && !paused) || running) {
                if (nanos <= 0) {
                    break;
                }
                try {
                    nanos = idle.awaitNanos(nanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return queue.isEmpty() && !running;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Refuses new messages and returns those still queued, which the caller counts as dropped; work still queued is
     * {@linkplain Work#abandoned() abandoned} (after the lock is released). A batch in progress stops after the item in
     * hand; the rest of it goes to {@link Handler#droppedAfterClose} (messages) and is abandoned (work).
     */
    public int close() {
        int left = 0;
        List<Work> abandoned = null;
        lock.lock();
        try {
            closed = true;
            paused = true;
            overCapacity = false; // publishers held back by this mailbox's congestion must not wait for it any more
            releasePauser();
            for (Object item : queue) {
                if (item instanceof Work w) {
                    abandoned = add(abandoned, w);
                } else {
                    left++;
                }
            }
            queue.clear();
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
        abandon(abandoned);
        return left;
    }

    private static List<Work> add(@Nullable List<Work> list, Work w) {
        List<Work> l = list != null ? list : new ArrayList<>();
        l.add(w);
        return l;
    }

    /** Tells abandoned work, outside the lock; one that throws does not keep the others from being told. */
    private static void abandon(@Nullable List<Work> abandoned) {
        if (abandoned == null) {
            return;
        }
        for (Work w : abandoned) {
            try {
                w.abandoned();
            } catch (RuntimeException e) {
                log.error("abandoned work {} failed", w, e);
            }
        }
    }

    public int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }
}
