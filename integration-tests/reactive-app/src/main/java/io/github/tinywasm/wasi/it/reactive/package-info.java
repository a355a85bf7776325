/**
 * Integration test application on WebFlux (Reactor Netty) with the starter: {@code /ws} and {@code /m/} as a user of
 * the README gets them.
 */
@NullMarked
package io.github.tinywasm.wasi.it.reactive;

import org.jspecify.annotations.NullMarked;
