/**
 * Engine internals shared between the engine's packages. Not an API: anything here may change without notice.
 */
package io.github.tinywasm.wasi.internal;
