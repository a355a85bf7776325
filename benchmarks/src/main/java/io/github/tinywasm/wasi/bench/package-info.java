/**
 * The benchmark harness ({@code scripts/bench.sh}): delivery, hot swap, WebSocket fan-out and HTTP, each measured next
 * to a reference in the same run.
 */
@NullMarked
package io.github.tinywasm.wasi.bench;

import org.jspecify.annotations.NullMarked;
