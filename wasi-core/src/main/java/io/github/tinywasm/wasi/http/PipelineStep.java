package io.github.tinywasm.wasi.http;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one module did with a request, as the pipeline sees it: it answered, it passed the request on (a middleware
 * that returned 0, with the headers it set), it failed (an error of the module: the response says which), or it could
 * not take the request (mailbox full, module gone). Engine internals, between a module slot and
 * {@link GuestHttpDispatcher}.
 *
 * @param outcome what happened
 * @param response the answer when {@link Outcome#ANSWERED}, the error response when {@link Outcome#FAILED} or
 *     {@link Outcome#REFUSED}; {@code null} when {@link Outcome#PASSED}
 * @param request the request to pass on when {@link Outcome#PASSED}; {@code null} otherwise
 */
public record PipelineStep(Outcome outcome, @Nullable GuestHttpResponse response, @Nullable GuestHttpRequest request) {

    /** What one module did with a request. */
    public enum Outcome {
        /** The module answered: the pipeline ends with its response. */
        ANSWERED,
        /** The module did not answer (a middleware returned 0): the request goes on, with the headers it set. */
        PASSED,
        /** The module failed (trap, timeout, bad call): the response is the error (500 or 504). */
        FAILED,
        /** The module could not take the request (mailbox full, module unloaded): the response is 503. */
        REFUSED
    }

    public PipelineStep {
        Objects.requireNonNull(outcome, "outcome");
        if ((outcome == Outcome.PASSED) != (request != null) || (outcome == Outcome.PASSED) == (response != null)) {
            throw new IllegalArgumentException(outcome + " needs " + (outcome == Outcome.PASSED ? "a request" : "a response"));
        }
    }

    public static PipelineStep answered(GuestHttpResponse response) {
        return new PipelineStep(Outcome.ANSWERED, response, null);
    }

    public static PipelineStep passed(GuestHttpRequest request) {
        return new PipelineStep(Outcome.PASSED, null, request);
    }

    public static PipelineStep failed(GuestHttpResponse error) {
        return new PipelineStep(Outcome.FAILED, error, null);
    }

    public static PipelineStep refused(GuestHttpResponse error) {
        return new PipelineStep(Outcome.REFUSED, error, null);
    }
}
