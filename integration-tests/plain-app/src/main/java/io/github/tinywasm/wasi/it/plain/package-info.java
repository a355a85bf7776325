/**
 * Integration test application without a web stack: the starter alone runs its modules and exits when done.
 */
@NullMarked
package io.github.tinywasm.wasi.it.plain;

import org.jspecify.annotations.NullMarked;
