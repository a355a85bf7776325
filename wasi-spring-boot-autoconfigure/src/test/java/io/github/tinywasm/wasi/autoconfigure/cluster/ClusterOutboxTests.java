package io.github.tinywasm.wasi.autoconfigure.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The outbox: bounded, first in first out, what does not fit (or is left at close) dropped and counted. */
class ClusterOutboxTests {

    private static final StreamRef STREAM = StreamRef.topic("p:", "t");

    private static ClusterOutbox.Entry entry(int n) {
        return new ClusterOutbox.Entry(STREAM, new byte[][] {"p".getBytes(StandardCharsets.US_ASCII),
                Integer.toString(n).getBytes(StandardCharsets.US_ASCII)});
    }

    private static List<Integer> numbers(List<ClusterOutbox.Entry> entries) {
        return entries.stream().map(e -> Integer.parseInt(new String(e.fields()[1], StandardCharsets.US_ASCII))).toList();
    }

    @Test
    void beyondItsCapacityEntriesAreDroppedAndCountedAndTheRestLeaveInOrder() throws Exception {
        ClusterOutbox outbox = new ClusterOutbox(3);
        for (int i = 1; i <= 5; i++) {
            assertThat(outbox.offer(entry(i))).isEqualTo(i <= 3);
        }
        assertThat(outbox.depth()).isEqualTo(3);
        assertThat(outbox.dropped()).isEqualTo(2);
        assertThat(numbers(outbox.take(2, 0))).containsExactly(1, 2);
        assertThat(outbox.offer(entry(6))).isTrue(); // room again
        assertThat(numbers(outbox.take(10, 0))).containsExactly(3, 6);
        assertThat(outbox.offered()).isEqualTo(4);
    }

    @Test
    void takeWaitsForTheFirstEntryAndReturnsEmptyWhenNoneComes() throws Exception {
        ClusterOutbox outbox = new ClusterOutbox(10);
        assertThat(outbox.take(10, 10)).isEmpty();
        CompletableFuture<List<ClusterOutbox.Entry>> taken = CompletableFuture.supplyAsync(() -> {
            try {
                return outbox.take(10, TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        outbox.offer(entry(1));
        assertThat(numbers(taken.get(30, TimeUnit.SECONDS))).containsExactly(1);
    }

    @Test
    void closingDropsAndCountsWhatIsLeftAndRefusesMore() throws Exception {
        ClusterOutbox outbox = new ClusterOutbox(10);
        outbox.offer(entry(1));
        outbox.offer(entry(2));
        assertThat(outbox.close()).isEqualTo(2);
        assertThat(outbox.offer(entry(3))).isFalse();
        assertThat(outbox.dropped()).isEqualTo(3);
        assertThat(outbox.take(10, 1000)).isEmpty(); // returns at once once closed
    }
}
