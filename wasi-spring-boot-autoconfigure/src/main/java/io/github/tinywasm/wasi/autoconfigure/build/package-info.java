/**
 * Build on change (development mode, {@code tinywasm.wasi.build.*}): guest modules rebuilt from their sources and
 * deployed into the modules folder, where the server swaps them.
 */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.build;

import org.jspecify.annotations.NullMarked;
