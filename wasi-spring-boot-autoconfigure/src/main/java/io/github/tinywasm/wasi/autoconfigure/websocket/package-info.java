/** tinywasm-wasi websocket support. */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.websocket;

import org.jspecify.annotations.NullMarked;
