package io.github.tinywasm.wasi;

/** What a publisher does when a subscriber's mailbox is full. A message that is not accepted is counted. */
public enum OverflowPolicy {
    /**
     * Block the publisher until the mailbox has room or the publish timeout passes, then drop and count. A blocked
     * worker never holds the worker its consumer needs (the pool adds one meanwhile), and a publisher never waits
     * for itself: a guest publishing to its own full mailbox, or closing a cycle of modules blocked on each other's
     * full mailboxes, is let in beyond the capacity (up to twice the capacity plus 512 messages), while publishers
     * from outside wait for the cycle to drain. So healthy cycles (each message handled leads to at most one
     * message on) fed by the application never drop.
     */
    BLOCK,
    /** Drop the message for that subscriber at once and count it. */
    DROP
}
