/**
 * Integration test application on Spring MVC with {@code spring-boot-starter-websocket} and the starter: {@code /ws}
 * and {@code /m/} as a user of the README gets them.
 */
@NullMarked
package io.github.tinywasm.wasi.it.servlet;

import org.jspecify.annotations.NullMarked;
