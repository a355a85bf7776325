package io.github.tinywasm.wasi.autoconfigure.http;

import io.github.tinywasm.wasi.http.GuestHttpDispatcher;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.observation.ServerRequestObservationContext;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@code {tinywasm.wasi.http.path}/{name}/**} on WebFlux: joins the request body up to {@code max-request-size} (413
 * beyond, and at once past an announced length), hands the request to the {@link GuestHttpDispatcher} and answers with
 * a {@link Mono} of its response: no event loop waits while the request queues for its module or the guest runs. The
 * response is written as the guest made it: status, headers and the body's bytes.
 *
 * <p>Thread-safe: stateless; the response completes on a module's worker thread, from which Reactor Netty hands the
 * write to the connection's event loop.
 */
public class GuestHttpWebFluxHandler implements HandlerFunction<ServerResponse> {

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
        long announced = http.getHeaders().getContentLength();
        if (announced > dispatcher.maxRequestSize()) {
            return write(HttpRequests.tooLarge(dispatcher, announced + " bytes", module));
        }
        String query = http.getURI().getRawQuery();
        String target = query != null ? encoded + "?" + query : encoded;
        List<Header> headers = new ArrayList<>();
        http.getHeaders().forEach((name, values) -> values.forEach(v -> headers.add(new Header(name, v))));
        return DataBufferUtils.join(http.getBody(), (int) dispatcher.maxRequestSize())
                .map(GuestHttpWebFluxHandler::bytes)
                .defaultIfEmpty(new byte[0])
                .flatMap(body -> Mono.fromFuture(dispatcher.dispatch(module,
                        new GuestHttpRequest(http.getMethod().name(), path, target, headers, body)), true))
                .onErrorResume(DataBufferLimitException.class, e -> Mono.just(HttpRequests.tooLarge(dispatcher,
                        "more than " + dispatcher.maxRequestSize() + " bytes", module)))
                .flatMap(GuestHttpWebFluxHandler::write);
    }

    private static byte[] bytes(DataBuffer buffer) {
        try {
            byte[] bytes = new byte[buffer.readableByteCount()];
            buffer.read(bytes);
            return bytes;
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    /** The guest's response as it is: status, headers, body bytes. */
    static Mono<ServerResponse> write(GuestHttpResponse response) {
        ServerResponse.BodyBuilder builder = ServerResponse.status(response.status())
                .headers(h -> response.headers().forEach(f -> h.add(f.name(), f.value())));
        return response.bodySize() > 0 ? builder.contentLength(response.bodySize()).bodyValue(response.body()) : builder.build();
    }
}
