package io.github.tinywasm.wasi.autoconfigure.http;

import io.github.tinywasm.wasi.http.GuestHttpDispatcher;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.springframework.web.filter.ServerHttpObservationFilter;
import org.springframework.web.servlet.function.HandlerFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * {@code {tinywasm.wasi.http.path}/{name}/**} on Spring MVC: reads the request (its body up to
 * {@code max-request-size}, 413 beyond, without reading further than the announced length), hands it to the
 * {@link GuestHttpDispatcher} and returns an asynchronous response ({@link ServerResponse#async}): no servlet thread
 * waits while the request queues for its module or the guest runs. The response is written as the guest made it:
 * status, headers and the body's bytes, with no content negotiation.
 *
 * <p>Thread-safe: stateless; the response completes on a module's worker thread and Spring MVC writes it from a
 * container thread.
 */
public class GuestHttpMvcHandler implements HandlerFunction<ServerResponse> {

    private final GuestHttpDispatcher dispatcher;
    private final String basePath;

    /**
     * @param dispatcher the engine's dispatcher ({@code WasiServer.http()})
     * @param basePath the route's base path, e.g. {@code /m}
     */
    public GuestHttpMvcHandler(GuestHttpDispatcher dispatcher, String basePath) {
        this.dispatcher = dispatcher;
        this.basePath = basePath;
    }

    @Override
    public ServerResponse handle(ServerRequest request) throws IOException {
        HttpServletRequest servlet = request.servletRequest();
        String path = HttpRequests.decodedPath(request.requestPath().pathWithinApplication().value());
        String module = HttpRequests.module(path, basePath);
        ServerHttpObservationFilter.findObservationContext(servlet)
                .ifPresent(context -> GuestHttpObservations.tag(context, HttpRequests.tag(dispatcher, module)));
        long announced = servlet.getContentLengthLong();
        if (announced > dispatcher.maxRequestSize()) {
            return write(HttpRequests.tooLarge(dispatcher, announced + " bytes", module));
        }
        byte[] body;
        try (InputStream in = servlet.getInputStream()) {
            body = in.readNBytes((int) dispatcher.maxRequestSize() + 1);
        }
        if (body.length > dispatcher.maxRequestSize()) {
            return write(HttpRequests.tooLarge(dispatcher, "more than " + dispatcher.maxRequestSize() + " bytes", module));
        }
        String encoded = request.requestPath().pathWithinApplication().value();
        String query = servlet.getQueryString();
        GuestHttpRequest guest = new GuestHttpRequest(servlet.getMethod(), path,
                query != null ? encoded + "?" + query : encoded, headers(servlet), body);
        CompletableFuture<ServerResponse> answer = dispatcher.dispatch(module, guest).thenApply(GuestHttpMvcHandler::write);
        return ServerResponse.async(answer);
    }

    private static List<Header> headers(HttpServletRequest servlet) {
        List<Header> headers = new ArrayList<>();
        for (String name : Collections.list(servlet.getHeaderNames())) {
            for (String value : Collections.list(servlet.getHeaders(name))) {
                headers.add(new Header(name, value));
            }
        }
        return headers;
    }

    /** The guest's response as it is: status, headers, body bytes. */
    static ServerResponse write(GuestHttpResponse response) {
        return ServerResponse.status(response.status())
                .headers(h -> response.headers().forEach(f -> h.add(f.name(), f.value())))
                .build((req, res) -> {
                    if (response.bodySize() > 0) {
                        res.setContentLength(response.bodySize());
                        res.getOutputStream().write(response.body());
                    }
                    return null;
                });
    }
}
