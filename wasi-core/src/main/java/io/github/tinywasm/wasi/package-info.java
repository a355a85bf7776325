/**
 * The engine's public API: {@link io.github.tinywasm.wasi.WasiServer} hosts WASI modules on Chicory, routes
 * {@link io.github.tinywasm.wasi.Message}s between them and Java code over topics, hot-swaps a module when its file
 * changes, and reports on each module ({@link io.github.tinywasm.wasi.ModuleInfo}). No Spring in this package or
 * below it; the Spring Boot starter builds on this API.
 */
@NullMarked
package io.github.tinywasm.wasi;

import org.jspecify.annotations.NullMarked;
