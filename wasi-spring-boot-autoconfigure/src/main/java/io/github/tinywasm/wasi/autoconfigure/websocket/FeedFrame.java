package io.github.tinywasm.wasi.autoconfigure.websocket;

/**
 * A frame a {@link FanOutFeed} hands to the fan-out: a payload and its offset in its topic's stream.
 *
 * @param offset the frame's offset (epoch and stream position)
 * @param payload the frame's bytes, owned by the fan-out from then on
 */
public record FeedFrame(TopicOffset offset, byte[] payload) {}
