package io.github.tinywasm.wasi.it.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.autoconfigure.http.GuestHttpWebFluxHandler;
import io.github.tinywasm.wasi.it.HttpEndpointSuite;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/** The HTTP suite on WebFlux with Reactor Netty, with the starter's real dependency set. */
class ReactiveHttpTests extends HttpEndpointSuite {

    @Override
    protected Class<?> application() {
        return ReactiveApplication.class;
    }

    @Test
    void requestsGoThroughTheWebFluxHandlerOnNetty() {
        assertThat(((WebServerApplicationContext) context()).getWebServer().getClass().getName()).contains("Netty");
        assertThat(context().getBeansOfType(GuestHttpWebFluxHandler.class)).hasSize(1);
    }
}
