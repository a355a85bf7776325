/**
 * Engine internals shared between the engine's packages. Not an API: anything here may change without notice.
 */
@NullMarked
package io.github.tinywasm.wasi.internal;

import org.jspecify.annotations.NullMarked;
