/** tinywasm-wasi actuate support. */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.actuate;

import org.jspecify.annotations.NullMarked;
