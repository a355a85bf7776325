/**
 * HTTP to guests: tinywasm/wasi's {@code /m/{name}} route on Spring MVC ({@link GuestHttpMvcHandler}) and WebFlux
 * ({@link GuestHttpWebFluxHandler}), both answering asynchronously through the engine's
 * {@link io.github.tinywasm.wasi.http.GuestHttpDispatcher}.
 */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.http;

import org.jspecify.annotations.NullMarked;
