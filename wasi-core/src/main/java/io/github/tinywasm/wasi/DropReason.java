package io.github.tinywasm.wasi;

/** Why a message accepted by the bus did not reach a guest's {@code on_message}. Every drop is counted. */
public enum DropReason {
    /** The subscriber's mailbox was full (policy DROP, or BLOCK past its timeout). */
    MAILBOX_FULL,
    /** Queued for a topic that the module's new version no longer subscribes to. */
    UNSUBSCRIBED,
    /** The module exports neither {@code malloc} nor {@code alloc}, or they returned 0. */
    NO_ALLOCATOR,
    /** The module was closed with the message still queued (only past the drain timeout). */
    CLOSED,
    /** The module has no memory to receive a message in (every export is optional, {@code memory} included). */
    NO_MEMORY,
    /** The module exports neither {@code on_message} nor {@code on_topic_message}: nothing could receive it. */
    NO_HANDLER,
    /**
     * The module is quarantined and the message could not go to the dead-letter topic instead (there is none, or the
     * message is on it already).
     */
    QUARANTINED;

    /** Lower-case, dash-separated name used in metric tags and JSON. */
    public String tag() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
