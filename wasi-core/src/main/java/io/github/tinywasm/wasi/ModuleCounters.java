package io.github.tinywasm.wasi;

import java.util.Map;

/**
 * Cumulative counters of one module slot, across all its versions.
 *
 * @param published messages the module published
 * @param broadcasts {@code ws_broadcast} calls the module made
 * @param delivered messages handed to the module's {@code on_message} without error
 * @param errors guest calls that failed while handling a message (traps and timeouts included)
 * @param traps guest traps while handling a message
 * @param timeouts guest calls interrupted after the call timeout
 * @param dropped messages that did not reach the module, by reason
 * @param calls guest calls made to handle messages
 * @param callNanos total time spent in those calls
 * @param swaps successful hot swaps
 * @param failedLoads loads or swaps that failed
 * @param deadLettered messages published to the dead-letter topic on the module's behalf: those it trapped or timed
 *     out on, and those that reached it while it was quarantined
 * @param denied calls and HTTP requests refused by the module's capabilities (a refused call trapped the guest's call; a
 *     refused request was answered 403 before any guest ran)
 * @param rollbacks swaps back to the previous version, asked for or automatic (probation); counted in {@code swaps}
 *     too
 */
public record ModuleCounters(
        long published,
        long broadcasts,
        long delivered,
        long errors,
        long traps,
        long timeouts,
        Map<DropReason, Long> dropped,
        long calls,
        long callNanos,
        long swaps,
        long failedLoads,
        long rollbacks,
        long denied,
        long deadLettered) {

    public ModuleCounters {
        dropped = Map.copyOf(dropped);
    }

    /** All dropped messages, whatever the reason. */
    public long droppedTotal() {
        return dropped.values().stream().mapToLong(Long::longValue).sum();
    }
}
