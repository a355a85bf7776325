package io.github.tinywasm.wasi.it.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.autoconfigure.http.GuestHttpMvcHandler;
import io.github.tinywasm.wasi.it.HttpEndpointSuite;
import org.junit.jupiter.api.Test;

/** The HTTP suite on Spring MVC with Tomcat, with the starter's real dependency set. */
class ServletHttpTests extends HttpEndpointSuite {

    @Override
    protected Class<?> application() {
        return ServletApplication.class;
    }

    @Test
    void requestsGoThroughTheSpringMvcHandler() {
        assertThat(context().getBeansOfType(GuestHttpMvcHandler.class)).hasSize(1);
    }
}
