package io.github.tinywasm.wasi.autoconfigure.http;

import io.github.tinywasm.wasi.http.GuestHttpDispatcher;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.observation.ServerRequestObservationContext;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@code {tinywasm.wasi.http.path}/{name}/**} on WebFlux: reads the request body up to {@code max-request-size} (413
 * beyond, once the body is read and thrown away up to {@link #DRAIN_ALLOWANCE} more; at once, closing the connection,
 * past that), hands the request to the {@link GuestHttpDispatcher} and answers with
 * a {@link Mono} of its response: no event loop waits while the request queues for its module or the guest runs. The
 * response is written as the guest made it: status, headers and the body's bytes.
 *
 * <p>Thread-safe: stateless; the response completes on a module's worker thread, from which Reactor Netty hands the
 * write to the connection's event loop.
 */
public class GuestHttpWebFluxHandler implements HandlerFunction<ServerResponse> {

    /**
     * How much of a body past {@code max-request-size} is read and thrown away before the 413, so that the connection
     * stays usable (as Tomcat's swallow limit, 2 MiB by default); a larger body gets the 413 with the connection closed.
     */
    static final long DRAIN_ALLOWANCE = 2L << 20;

    private final GuestHttpDispatcher dispatcher;
    private final String basePath;

    /**
     * @param dispatcher the engine's dispatcher ({@code WasiServer.http()})
     * @param basePath the route's base path, e.g. {@code /m}
     */
    public GuestHttpWebFluxHandler(GuestHttpDispatcher dispatcher, String basePath) {
        this.dispatcher = dispatcher;
        this.basePath = basePath;
    }

    @Override
    public Mono<ServerResponse> handle(ServerRequest request) {
        ServerHttpRequest http = request.exchange().getRequest();
        String encoded = http.getPath().pathWithinApplication().value();
        String path = HttpRequests.decodedPath(encoded);
        String module = HttpRequests.module(path, basePath);
        ServerRequestObservationContext.findCurrent(request.exchange().getAttributes())
                .ifPresent(context -> GuestHttpObservations.tag(context, HttpRequests.tag(dispatcher, module)));
        long max = dispatcher.maxRequestSize();
        long announced = http.getHeaders().getContentLength();
        if (announced > max + DRAIN_ALLOWANCE) {
            return write(HttpRequests.tooLarge(dispatcher, announced + " bytes", module), true);
        }
        String query = http.getURI().getRawQuery();
        String target = query != null ? encoded + "?" + query : encoded;
        List<Header> headers = new ArrayList<>();
        http.getHeaders().forEach((name, values) -> values.forEach(v -> headers.add(new Header(name, v))));
        Body body = new Body(max, announced > max);
        return http.getBody()
                .takeWhile(body::add) // add releases every buffer; false past the drain allowance, which ends the read
                .then(Mono.defer(() -> {
                    if (body.size > max) {
                        String what = announced > max ? announced + " bytes" : "more than " + max + " bytes";
                        return write(HttpRequests.tooLarge(dispatcher, what, module), body.size > max + DRAIN_ALLOWANCE);
                    }
                    return Mono.fromFuture(dispatcher.dispatch(module,
                            new GuestHttpRequest(http.getMethod().name(), path, target, headers, body.bytes())), true)
                            .flatMap(GuestHttpWebFluxHandler::write);
                }));
    }

    /**
     * A request body as it arrives: its bytes up to the maximum, then only its size. Read past the maximum (and thrown
     * away) up to {@link #DRAIN_ALLOWANCE} more, so that a client that sends its whole body before it reads the answer
     * (the JDK's HttpClient does) gets the 413 instead of waiting on a connection nobody reads. Used by one
     * subscription: the connection's event loop, one buffer at a time.
     */
    private static final class Body {
        private final long max;
        private final boolean discard;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long size;

        Body(long max, boolean discard) {
            this.max = max;
            this.discard = discard;
        }

        /** Takes the buffer (and releases it); false once the body is past the drain allowance. */
        boolean add(DataBuffer buffer) {
            try {
                int n = buffer.readableByteCount();
                size += n;
                if (!discard && size <= max) {
                    byte[] chunk = new byte[n];
                    buffer.read(chunk);
                    bytes.write(chunk, 0, n);
                }
            } finally {
                DataBufferUtils.release(buffer);
            }
            return size <= max + DRAIN_ALLOWANCE;
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }
    }

    /** The guest's response as it is: status, headers, body bytes. */
    static Mono<ServerResponse> write(GuestHttpResponse response) {
        return write(response, false);
    }

    /** With {@code close}, the connection ends after the response (a body not read to its end is left behind). */
    private static Mono<ServerResponse> write(GuestHttpResponse response, boolean close) {
        ServerResponse.BodyBuilder builder = ServerResponse.status(response.status())
                .headers(h -> response.headers().forEach(f -> h.add(f.name(), f.value())));
        if (close) {
            builder.header(HttpHeaders.CONNECTION, "close");
        }
        return response.bodySize() > 0 ? builder.contentLength(response.bodySize()).bodyValue(response.body()) : builder.build();
    }
}
