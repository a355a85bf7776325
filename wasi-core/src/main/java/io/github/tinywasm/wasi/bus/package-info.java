/**
 * The topic bus: routing by topic ({@code TopicBus}), one bounded mailbox per subscriber served by a shared pool
 * ({@code Mailbox}), and Java subscribers ({@code JavaSubscription}). Engine internals: applications use
 * {@link io.github.tinywasm.wasi.WasiServer}.
 */
@NullMarked
package io.github.tinywasm.wasi.bus;

import org.jspecify.annotations.NullMarked;
