package io.github.tinywasm.wasi.module;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Interrupts guest calls that run longer than the call timeout, or past a deadline: the drain deadline of an
 * instance being stopped or replaced ({@link Guard#interruptAfter}), or of every instance while the server stops
 * ({@link #interruptAllAfter}). Chicory checks the thread's interrupt flag in both the interpreter and compiled code,
 * so an interrupted guest ends with {@code ChicoryInterruptedException} within a millisecond. The deadlines are what
 * bound a swap and a shutdown when the call timeout is 0 (no limit).
 *
 * <p>Threads: one daemon thread, {@code wasi-watchdog}, scans the registered {@link Guard}s every
 * {@code timeout / 10} (5-100 ms; {@value #DEADLINE_SCAN_MILLIS} ms when only deadlines are watched). It starts on
 * demand (the first guard with a call timeout, or the first deadline), never in the constructor, and with no call
 * timeout it ends when no deadline is left. A guest call pays two volatile writes and no clock read: the watchdog
 * notices a call by its sequence number staying the same across scans, so a timeout fires between {@code timeout}
 * and {@code timeout + scan interval} after the call started. {@code startLock} guards the thread's start and end
 * and the count of pending deadlines.
 */
public final class CallWatchdog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CallWatchdog.class);
    private static final long DEADLINE_SCAN_MILLIS = 20;

    /** Why a call was interrupted; what {@link Guard#end()} returns. */
    static final int NOT_INTERRUPTED = 0;
    static final int CALL_TIMEOUT = 1;
    static final int DEADLINE = 2;

    private final long timeoutNanos;
    private final long intervalMillis;
    private final Set<Guard> guards = ConcurrentHashMap.newKeySet();
    private final Object startLock = new Object();
    private @Nullable Thread thread;
    private int pendingDeadlines;
    private volatile boolean closed;
    private volatile boolean hasGlobalDeadline;
    private volatile long globalDeadline;

    public CallWatchdog(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        this.intervalMillis = timeoutNanos > 0 ? Math.max(5, Math.min(100, timeout.toMillis() / 10)) : DEADLINE_SCAN_MILLIS;
    }

    /** A new guard for one module instance; calls through it are watched until the guard is closed. */
    Guard guard(String module) {
        Guard g = new Guard(module);
        guards.add(g);
        if (timeoutNanos > 0) {
            ensureRunning();
        }
        return g;
    }

    /**
     * Interrupts every guest call still running at {@code deadline} ({@link System#nanoTime()}), and every call made
     * after it, until {@link #clearGlobalDeadline()}: what bounds a shutdown.
     */
    public void interruptAllAfter(long deadline) {
        synchronized (startLock) {
            globalDeadline = deadline;
            if (!hasGlobalDeadline) {
                hasGlobalDeadline = true;
                pendingDeadlines++;
            }
            ensureRunning();
        }
    }

    public void clearGlobalDeadline() {
        synchronized (startLock) {
            if (hasGlobalDeadline) {
                hasGlobalDeadline = false;
                pendingDeadlines--;
            }
        }
    }

    private void ensureRunning() {
        synchronized (startLock) {
            if (thread == null && !closed) {
                thread = new Thread(this::run, "wasi-watchdog");
                thread.setDaemon(true);
                thread.start();
            }
        }
    }

    private void run() {
        while (!closed) {
            try {
                TimeUnit.MILLISECONDS.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            boolean global = hasGlobalDeadline && now - globalDeadline >= 0;
            for (Guard g : guards) {
                g.check(now, timeoutNanos, global);
            }
            if (timeoutNanos == 0) {
                synchronized (startLock) {
                    if (pendingDeadlines == 0) {
                        thread = null; // nothing to watch: a new deadline starts a new thread
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        synchronized (startLock) {
            closed = true;
            if (thread != null) {
                thread.interrupt();
                thread = null;
            }
        }
    }

    /**
     * Times the calls into one instance. {@link #begin()} and {@link #end()} are called by the thread running
     * the guest (one at a time: calls into an instance are serialised); {@link #check} by the watchdog.
     *
     * <p>The only race is an interrupt aimed at a call that has just ended: {@code fired} is written before
     * {@code inCall} is read on the watchdog side, and {@code inCall} before {@code fired} on the guest side,
     * so at least one of them sees the other; a guest thread that sees {@code fired} takes the lock, which
     * waits for the interrupt to have happened, and then clears it so it cannot hit the next call.
     */
    final class Guard implements AutoCloseable {
        private final String module;
        private volatile long seq;
        private volatile boolean inCall;
        private volatile boolean fired;
        private volatile int interruptedBy;
        private volatile long deadline;
        private volatile boolean hasDeadline;
        private @Nullable Thread caller;
        // Watchdog-thread state only.
        private long observedSeq = -1;
        private long observedSince;
        private long firedSeq = -1;

        private Guard(String module) {
            this.module = module;
        }

        void begin() {
            caller = Thread.currentThread();
            interruptedBy = NOT_INTERRUPTED;
            seq = seq + 1;
            inCall = true;
        }

        /** Ends a call; returns why the watchdog interrupted it ({@link #CALL_TIMEOUT}, {@link #DEADLINE}), if it did. */
        int end() {
            inCall = false;
            if (fired) {
                synchronized (this) {
                    fired = false;
                    Thread.interrupted();
                }
            }
            return interruptedBy;
        }

        /** Interrupts the call running at {@code nanoTime}, and every call after it, until {@link #noDeadline()}. */
        synchronized void interruptAfter(long nanoTime) {
            deadline = nanoTime;
            if (!hasDeadline) {
                hasDeadline = true;
                synchronized (startLock) {
                    pendingDeadlines++;
                    ensureRunning();
                }
            }
        }

        synchronized void noDeadline() {
            if (hasDeadline) {
                hasDeadline = false;
                synchronized (startLock) {
                    pendingDeadlines--;
                }
            }
        }

        private void check(long now, long timeout, boolean pastGlobalDeadline) {
            if (!inCall) {
                observedSeq = -1;
                return;
            }
            long s = seq;
            if (pastGlobalDeadline || (hasDeadline && now - deadline >= 0)) {
                if (firedSeq != s) {
                    fire(s, DEADLINE);
                }
                return;
            }
            if (timeout == 0) {
                return;
            }
            if (s != observedSeq) {
                observedSeq = s;
                observedSince = now;
            } else if (now - observedSince >= timeout) {
                fire(s, CALL_TIMEOUT);
            }
        }

        private void fire(long s, int why) {
            synchronized (this) {
                fired = true;
                if (inCall && seq == s && caller != null) { // caller: set by begin() before inCall
                    interruptedBy = why;
                    if (why == CALL_TIMEOUT) {
                        log.warn("[{}] guest call exceeded the call timeout of {} ms: interrupting it", module,
                                TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
                    } else {
                        log.warn("[{}] guest call still running at the drain timeout: interrupting it", module);
                    }
                    caller.interrupt();
                    observedSeq = -1;
                    firedSeq = s;
                } else {
                    fired = false;
                }
            }
        }

        @Override
        public void close() {
            noDeadline();
            guards.remove(this);
        }
    }
}
