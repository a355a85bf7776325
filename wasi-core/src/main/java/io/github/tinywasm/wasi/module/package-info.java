/**
 * Modules: a named slot that owns a module's life cycle ({@code ModuleSlot}: load, hot swap, unload, delivery),
 * one loaded version on Chicory ({@code WasmModule}), the guest ABI's imports ({@code HostBuilder}) and the call
 * watchdog. {@code WasmModule.standalone} is public for tools and benchmarks; the rest is engine internals.
 */
@NullMarked
package io.github.tinywasm.wasi.module;

import org.jspecify.annotations.NullMarked;
