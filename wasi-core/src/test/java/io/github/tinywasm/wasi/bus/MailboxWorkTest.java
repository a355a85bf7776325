package io.github.tinywasm.wasi.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.OverflowPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Work (HTTP requests) in a mailbox: one order with the messages, never waits for room, never lost silently. */
class MailboxWorkTest {

    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final List<String> abandoned = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private record Job(String name, List<String> handled, List<String> gone) implements Mailbox.Work {
        @Override
        public void abandoned() {
            gone.add(name);
        }
    }

    private Mailbox mailbox(int capacity) {
        return new Mailbox(capacity, executor, new Mailbox.Handler() {
            @Override
            public void handle(Message message) {
                handled.add(message.payloadAsString());
            }

            @Override
            public void handle(Mailbox.Work work) {
                handled.add(((Job) work).name());
            }
        });
    }

    private Job job(String name) {
        return new Job(name, handled, abandoned);
    }

    @Test
    void workAndMessagesAreHandledInTheOrderOffered() {
        Mailbox mailbox = mailbox(100);
        mailbox.pause(Duration.ofSeconds(1));
        mailbox.offer(Message.of("t", "m1"), OverflowPolicy.BLOCK, Duration.ofSeconds(1));
        assertThat(mailbox.offerWork(job("w1"))).isEqualTo(Mailbox.Offer.ACCEPTED);
        mailbox.offer(Message.of("t", "m2"), OverflowPolicy.BLOCK, Duration.ofSeconds(1));
        mailbox.offerWork(job("w2"));
        mailbox.resume();
        assertThat(mailbox.awaitEmpty(Duration.ofSeconds(10))).isTrue();
        assertThat(handled).containsExactly("m1", "w1", "m2", "w2");
    }

    @Test
    void aFullMailboxRefusesWorkAtOnceWhateverThePolicy() {
        Mailbox mailbox = mailbox(2);
        mailbox.pause(Duration.ofSeconds(1));
        mailbox.offerWork(job("w1"));
        mailbox.offer(Message.of("t", "m1"), OverflowPolicy.BLOCK, Duration.ofSeconds(1));
        long t0 = System.nanoTime();
        assertThat(mailbox.offerWork(job("w2"))).isEqualTo(Mailbox.Offer.FULL);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).as("did not wait for a publish timeout").isLessThan(1);
    }

    @Test
    void closingAbandonsQueuedWorkAndCountsOnlyTheMessages() {
        Mailbox mailbox = mailbox(10);
        mailbox.pause(Duration.ofSeconds(1));
        mailbox.offerWork(job("w1"));
        mailbox.offer(Message.of("t", "m1"), OverflowPolicy.BLOCK, Duration.ofSeconds(1));
        mailbox.offerWork(job("w2"));
        assertThat(mailbox.close()).as("messages left").isEqualTo(1);
        assertThat(abandoned).containsExactly("w1", "w2");
        assertThat(mailbox.offerWork(job("w3"))).isEqualTo(Mailbox.Offer.CLOSED);
        assertThat(handled).isEmpty();
    }
}
