/**
 * Several nodes of an application as one: WebSocket topics (with their offsets and history) and chosen bus topics
 * shared over Redis Streams, through Spring Boot's Redis auto-configuration. Turned on with
 * {@code tinywasm.wasi.cluster.redis.enabled=true}.
 */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure.cluster;

import org.jspecify.annotations.NullMarked;
