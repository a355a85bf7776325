package io.github.tinywasm.wasi.module;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Interrupts guest calls that run longer than the call timeout. Chicory checks the thread's interrupt flag
 * in both the interpreter and compiled code, so an interrupted guest ends with
 * {@code ChicoryInterruptedException} within a millisecond.
 *
 * <p>Threads: one daemon thread, {@code wasi-watchdog}, scans the registered {@link Guard}s every
 * {@code timeout / 10} (5-100 ms). A guest call pays two volatile writes and no clock read: the watchdog
 * notices a call by its sequence number staying the same across scans, so a timeout fires between
 * {@code timeout} and {@code timeout + scan interval} after the call started.
 */
public final class CallWatchdog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CallWatchdog.class);

    private final long timeoutNanos;
    private final long intervalMillis;
    private final Set<Guard> guards = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean closed;

    public CallWatchdog(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        this.intervalMillis = Math.max(5, Math.min(100, timeout.toMillis() / 10));
        if (timeoutNanos > 0) {
            thread = new Thread(this::run, "wasi-watchdog");
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /** A new guard for one module instance; calls through it are timed while the guard is registered. */
    Guard guard(String module) {
        Guard g = new Guard(module);
        if (timeoutNanos > 0) {
            guards.add(g);
        }
        return g;
    }

    private void run() {
        while (!closed) {
            try {
                TimeUnit.MILLISECONDS.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Guard g : guards) {
                g.check(now, timeoutNanos);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
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
        private volatile boolean timedOut;
        private Thread caller;
        // Watchdog-thread state only.
        private long observedSeq = -1;
        private long observedSince;

        private Guard(String module) {
            this.module = module;
        }

        void begin() {
            caller = Thread.currentThread();
            timedOut = false;
            seq = seq + 1;
            inCall = true;
        }

        /** Ends a call; returns whether the watchdog interrupted it. */
        boolean end() {
            inCall = false;
            if (fired) {
                synchronized (this) {
                    fired = false;
                    Thread.interrupted();
                }
            }
            return timedOut;
        }

        private void check(long now, long timeout) {
            if (!inCall) {
                observedSeq = -1;
                return;
            }
            long s = seq;
            if (s != observedSeq) {
                observedSeq = s;
                observedSince = now;
            } else if (now - observedSince >= timeout) {
                synchronized (this) {
                    fired = true;
                    if (inCall && seq == s) {
                        timedOut = true;
                        log.warn("[{}] guest call exceeded the call timeout of {} ms: interrupting it", module,
                                TimeUnit.NANOSECONDS.toMillis(timeout));
                        caller.interrupt();
                        observedSeq = -1;
                    } else {
                        fired = false;
                    }
                }
            }
        }

        @Override
        public void close() {
            guards.remove(this);
        }
    }
}
