package io.github.tinywasm.wasi.module;

import io.github.tinywasm.wasi.bus.Mailbox;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.PipelineStep;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request for one module, queued in one of its mailboxes with the bus's messages: whatever happens to it (the
 * guest answers or fails, the mailbox refuses it, the module is unloaded first), {@link #result()} completes once.
 *
 * <p>Thread-safe: completed by the worker that runs it, or by the thread that closes its mailbox.
 */
final class HttpWork implements Mailbox.Work {

    /** What a client is told to wait before trying again when a module cannot take its request. */
    static final String RETRY_AFTER_SECONDS = "1";

    final String module;
    final GuestHttpRequest request;
    final boolean middleware;
    private final CompletableFuture<PipelineStep> result = new CompletableFuture<>();
    /** Requests queued or running in the lane this one went to; set when it is queued. */
    private @Nullable AtomicInteger inFlight;
    private final AtomicBoolean done = new AtomicBoolean();

    HttpWork(String module, GuestHttpRequest request, boolean middleware) {
        this.module = module;
        this.request = request;
        this.middleware = middleware;
    }

    CompletableFuture<PipelineStep> result() {
        return result;
    }

    /** Counts this request in its lane until it completes; called before it is offered. */
    void queuedIn(AtomicInteger lane) {
        inFlight = lane;
        lane.incrementAndGet();
    }

    /**
     * Completes the request once; later calls do nothing. Its lane stops counting it first, so that what waits for it,
     * which runs on the calling thread and may send the next request, sees the lane as it is.
     */
    void complete(PipelineStep step) {
        if (done.compareAndSet(false, true)) {
            AtomicInteger lane = inFlight;
            if (lane != null) {
                lane.decrementAndGet();
            }
            result.complete(step);
        }
    }

    /** Completes with 503 and {@code Retry-After}: the module could not take the request. */
    void refuse(String why) {
        complete(PipelineStep.refused(GuestHttpResponse.error(503, why, null).withHeader("Retry-After", RETRY_AFTER_SECONDS)));
    }

    @Override
    public void abandoned() {
        refuse("module '" + module + "' was unloaded before it could answer");
    }

    @Override
    public String toString() {
        return "HTTP " + request.method() + " " + request.path() + " for module '" + module + "'";
    }
}
