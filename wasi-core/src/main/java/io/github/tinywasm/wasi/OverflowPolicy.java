package io.github.tinywasm.wasi;

/** What a publisher does when a subscriber's mailbox is full. A message that is not accepted is counted. */
public enum OverflowPolicy {
    /**
     * Block the publisher until the mailbox has room or the publish timeout passes, then drop and count.
     * A module's own worker never blocks on its own mailbox: it drops at once instead.
     */
    BLOCK,
    /** Drop the message for that subscriber at once and count it. */
    DROP
}
