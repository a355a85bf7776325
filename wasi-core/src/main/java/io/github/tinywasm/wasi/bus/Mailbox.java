package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.OverflowPolicy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded queue of messages served by one logical worker: a serial executor over a shared pool. Messages
 * are handed to the {@link Handler} one at a time, in the order they were offered, never on the offering
 * thread.
 *
 * <p>Threads and locks: everything below is guarded by {@code lock}. At most one drain task is scheduled or
 * running at a time ({@code scheduled}); it takes up to {@value #BATCH} messages per lock acquisition and
 * hands them to the handler outside the lock, re-submitting itself after {@value #MAX_BATCHES_PER_RUN}
 * batches so that one busy mailbox cannot monopolise a pool thread. {@link #pause()} stops the worker between
 * two messages (the rest of a batch goes back to the head of the queue) and returns once the handler is idle,
 * so that the caller may use what the handler uses.
 */
public final class Mailbox {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Mailbox.class);

    static final int BATCH = 256;
    private static final int MAX_BATCHES_PER_RUN = 16;

    /** Result of an offer. */
    public enum Offer { ACCEPTED, FULL, CLOSED }

    /** Called on the worker thread, one message at a time. Must not throw. */
    public interface Handler {
        void handle(Message message);

        /** Before a batch, on the worker thread (e.g. to set the logging context). */
        default void batchStart() {}

        /** After a batch: how many messages were handled and how long the handler took in all. */
        default void batchDone(int count, long nanos) {}
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition idle = lock.newCondition();
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private final int capacity;
    private final Executor executor;
    private final Handler handler;
    private final Runnable task = this::run;

    private boolean scheduled;
    private boolean running;
    private volatile boolean paused;
    private boolean closed;
    private volatile Thread worker;

    public Mailbox(int capacity, Executor executor, Handler handler) {
        this.capacity = capacity;
        this.executor = executor;
        this.handler = handler;
    }

    /**
     * Queues a message. When full, {@link OverflowPolicy#BLOCK} waits up to {@code blockTimeout} for room,
     * except on this mailbox's own worker thread, which would wait for itself.
     */
    public Offer offer(Message message, OverflowPolicy policy, Duration blockTimeout) {
        boolean submit;
        lock.lock();
        try {
            if (closed) {
                return Offer.CLOSED;
            }
            if (queue.size() >= capacity) {
                if (policy == OverflowPolicy.DROP || Thread.currentThread() == worker) {
                    return Offer.FULL;
                }
                long nanos = blockTimeout.toNanos();
                while (queue.size() >= capacity && !closed) {
                    if (nanos <= 0) {
                        return Offer.FULL;
                    }
                    try {
                        nanos = notFull.awaitNanos(nanos);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return Offer.FULL;
                    }
                }
                if (closed) {
                    return Offer.CLOSED;
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
        worker = Thread.currentThread();
        Message[] batch = new Message[BATCH];
        try {
            for (int round = 0; round < MAX_BATCHES_PER_RUN; round++) {
                int n = 0;
                lock.lock();
                try {
                    if (paused || queue.isEmpty()) {
                        scheduled = false;
                        idle.signalAll();
                        return;
                    }
                    while (n < BATCH && !queue.isEmpty()) {
                        batch[n++] = queue.pollFirst();
                    }
                    running = true;
                    notFull.signalAll();
                } finally {
                    lock.unlock();
                }
                int done = 0;
                handler.batchStart();
                long t0 = System.nanoTime();
                while (done < n && !paused) {
                    Message m = batch[done];
                    batch[done++] = null;
                    try {
                        handler.handle(m);
                    } catch (Throwable t) {
                        // a bug in a handler must not leave this mailbox stuck with `running` set
                        log.error("a mailbox handler failed on a message of topic '{}'; delivery goes on", m.topic(), t);
                    }
                }
                handler.batchDone(done, System.nanoTime() - t0);
                lock.lock();
                try {
                    for (int i = n - 1; i >= done; i--) {
                        queue.addFirst(batch[i]);
                        batch[i] = null;
                    }
                    running = false;
                    idle.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            worker = null;
        }
        // Still work to do after a full run: yield the pool thread and come back.
        schedule();
    }

    /** Stops delivery after the message being handled; returns when the handler is idle. */
    public void pause() {
        lock.lock();
        try {
            paused = true;
            while (running) {
                idle.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Resumes delivery of queued and new messages. */
    public void resume() {
        boolean submit;
        lock.lock();
        try {
            paused = false;
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
     * {@code timeout}. Returns whether the queue is empty.
     */
    public boolean awaitEmpty(Duration timeout) {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
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

    /** Refuses new messages and returns those still queued, which the caller counts as dropped. */
    public int close() {
        lock.lock();
        try {
            closed = true;
            int left = queue.size();
            queue.clear();
            notFull.signalAll();
            return left;
        } finally {
            lock.unlock();
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
