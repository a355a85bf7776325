package io.github.tinywasm.wasi.autoconfigure.websocket;

/**
 * Decides whether a WebSocket handshake may subscribe to a topic. Define a bean of this type to protect topics,
 * for example with Spring Security's principal; a denied handshake gets HTTP 403. The default allows all.
 *
 * <p>The same policy serves Spring MVC and WebFlux applications: it sees a {@link TopicAccessRequest}, not a
 * stack-specific request. It runs on the thread handling the handshake and must not block for long.
 */
@FunctionalInterface
public interface TopicAccessPolicy {

    /** Allows every topic. */
    TopicAccessPolicy ALLOW_ALL = request -> true;

    /** Whether {@code request} may subscribe to {@link TopicAccessRequest#topic()}. */
    boolean allows(TopicAccessRequest request);
}
