package io.github.tinywasm.wasi.autoconfigure.websocket;

/**
 * What feeds a {@link TopicFanOut} whose frames come from elsewhere than this node's guests (a cluster): the
 * fan-out says which topics its clients follow, the feed reads them and hands over their frames with their offsets
 * ({@link TopicFanOut#load}, then {@link TopicFanOut#deliver}), in the stream's order.
 */
public interface FanOutFeed {

    /**
     * The topics the fan-out follows ({@link TopicFanOut#followedTopics()}) changed: a topic got its first client
     * on this node, or lost its last one. Called on the threads that open and close sessions: must not block.
     */
    void followedTopicsChanged();
}
