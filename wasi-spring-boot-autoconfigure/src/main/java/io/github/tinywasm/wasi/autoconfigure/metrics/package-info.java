/** tinywasm-wasi metrics support. */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.metrics;

import org.jspecify.annotations.NullMarked;
