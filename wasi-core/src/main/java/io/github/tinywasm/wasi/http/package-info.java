/**
 * HTTP to guests: requests for {@code /m/{module}/...} as records, the original's rule file and middleware
 * pipeline, and {@link io.github.tinywasm.wasi.http.GuestHttpDispatcher} (from
 * {@link io.github.tinywasm.wasi.WasiServer#http()}), which hands a request to a module's mailbox or HTTP pool and
 * answers with the guest's response or a specific status. Stack-neutral: the Spring MVC and WebFlux routes live in
 * the starter.
 */
@NullMarked
package io.github.tinywasm.wasi.http;

import org.jspecify.annotations.NullMarked;
