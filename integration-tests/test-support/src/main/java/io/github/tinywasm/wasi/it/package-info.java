/**
 * What the integration test applications share: real guests compiled from WAT, real WebSocket clients, and the
 * WebSocket and HTTP endpoint suites each web stack runs unchanged.
 */
@NullMarked
package io.github.tinywasm.wasi.it;

import org.jspecify.annotations.NullMarked;
