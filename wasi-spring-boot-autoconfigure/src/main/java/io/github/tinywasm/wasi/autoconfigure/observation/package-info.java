/**
 * Micrometer Observations of the bus ({@code tinywasm.bus.publish}, {@code tinywasm.bus.process}) and of WebSocket
 * broadcasts ({@code tinywasm.websocket.broadcast}), with the trace context carried in each message's envelope.
 */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.observation;

import org.jspecify.annotations.NullMarked;
