package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WebSocketBroadcaster;

/**
 * Wraps the broadcaster that receives every guest's {@code ws_broadcast} (all {@link WebSocketBroadcaster} beans
 * together), for example to observe each broadcast. Beans of this type are applied in order, the first innermost.
 */
@FunctionalInterface
public interface WebSocketBroadcasterDecorator {

    /** {@code broadcaster} with more behaviour around it. */
    WebSocketBroadcaster decorate(WebSocketBroadcaster broadcaster);
}
