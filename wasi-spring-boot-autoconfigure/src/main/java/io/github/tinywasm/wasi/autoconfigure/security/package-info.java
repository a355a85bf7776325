/**
 * Spring Security support: WebSocket topics guarded by an {@code AuthorizationManager<TopicAccessRequest>}.
 */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.security;

import org.jspecify.annotations.NullMarked;
