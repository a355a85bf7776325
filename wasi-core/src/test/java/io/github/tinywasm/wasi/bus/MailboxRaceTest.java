package io.github.tinywasm.wasi.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.OverflowPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The worker's one lock acquisition per batch (settle the last batch, take the next), attacked: pauses, resumes,
 * awaitEmpty and close racing a worker that runs batch after batch (past the 16-batch yield), with work mixed in.
 * Nothing may be lost, handled twice, reordered, handled while a pause holds, or left waiting.
 */
class MailboxRaceTest {

    /** Handler that records what it sees and checks it is never run by two threads, nor while a pause holds. */
    private static final class Recorder implements Mailbox.Handler {
        final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        final AtomicLong reported = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicBoolean pausedIdle = new AtomicBoolean();
        final List<String> violations = new java.util.concurrent.CopyOnWriteArrayList<>();

        private void enter(String what) {
            if (inside.incrementAndGet() != 1) {
                violations.add("two workers at once on " + what);
            }
            if (pausedIdle.get()) {
                violations.add("handled " + what + " while a pause that found the handler idle holds");
            }
        }

        @Override
        public void handle(Message message) {
            enter(message.payloadAsString());
            seen.add(message.payloadAsString());
            inside.decrementAndGet();
        }

        @Override
        public void handle(Mailbox.Work work) {
            String name = ((Job) work).name;
            enter(name);
            seen.add(name);
            inside.decrementAndGet();
        }

        @Override
        public void batchDone(int count, long nanos) {
            reported.addAndGet(count);
        }

        @Override
        public void droppedAfterClose(int count) {
            late.addAndGet(count);
        }
    }

    private record Job(String name, ConcurrentLinkedQueue<String> gone) implements Mailbox.Work {
        @Override
        public void abandoned() {
            gone.add(name);
        }
    }

    @Test
    void pausesResumesAndAwaitsRacingABusyWorkerLoseReorderAndDuplicateNothing() throws Exception {
        // a small capacity keeps runs short; a large one lets runs go past the 16-batch yield (always taken on a pool
        // other than a ForkJoinPool)
        for (int capacity : new int[] {1024, 100_000}) {
            for (ExecutorService executor : new ExecutorService[] {new ForkJoinPool(2), Executors.newFixedThreadPool(2)}) {
                try {
                    race(executor, capacity);
                } finally {
                    executor.shutdownNow();
                }
            }
        }
    }

    private void race(ExecutorService executor, int capacity) throws Exception {
        Recorder recorder = new Recorder();
        ConcurrentLinkedQueue<String> gone = new ConcurrentLinkedQueue<>();
        Mailbox mailbox = new Mailbox(capacity, executor, recorder);
        int total = 200_000;
        AtomicBoolean publishing = new AtomicBoolean(true);
        List<String> expected = new ArrayList<>(total);
        java.util.concurrent.atomic.AtomicReference<Throwable> publisherFailed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread publisher = new Thread(() -> {
          try {
            for (int i = 0; i < total; i++) {
                String name = (i % 97 == 0 ? "w" : "m") + i;
                Mailbox.Offer o = i % 97 == 0 ? mailbox.offerWork(new Job(name, gone))
                        : mailbox.offer(Message.of("t", name), OverflowPolicy.BLOCK, Duration.ofSeconds(30));
                if (o == Mailbox.Offer.ACCEPTED) {
                    expected.add(name);
                } else if (i % 97 != 0) {
                    throw new AssertionError(name + " refused: " + o);
                }
                // a refused Job (mailbox full) is the caller's to answer: not expected
            }
          } catch (Throwable t) {
            publisherFailed.set(t);
          } finally {
            publishing.set(false);
          }
        }, "test-publisher");
        List<String> chaosErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread chaos = new Thread(() -> {
            int round = 0;
            while (publishing.get()) {
                round++;
                if (round % 3 == 0) {
                    mailbox.awaitEmpty(Duration.ofMillis(1));
                    continue;
                }
                boolean idle = mailbox.pause(Duration.ofMillis(round % 2 == 0 ? 0 : 50));
                if (idle) {
                    recorder.pausedIdle.set(true);
                    if (recorder.inside.get() != 0) {
                        chaosErrors.add("pause returned idle with the handler running");
                    }
                    recorder.pausedIdle.set(false);
                }
                mailbox.resume();
            }
        }, "test-chaos");
        publisher.start();
        chaos.start();
        publisher.join();
        chaos.join();
        assertThat(publisherFailed.get()).as("the publisher").isNull();
        assertThat(mailbox.awaitEmpty(Duration.ofSeconds(60))).as("drained").isTrue();
        assertThat(recorder.violations).isEmpty();
        assertThat(chaosErrors).isEmpty();
        assertThat(gone).isEmpty();
        assertThat(new ArrayList<>(recorder.seen)).as("each once, in the order offered").isEqualTo(expected);
        assertThat(recorder.reported.get()).as("batchDone counts").isEqualTo(expected.size());
    }

    @Test
    void closingABusyWorkerAccountsForEveryItemOnce() throws Exception {
        ExecutorService executor = new ForkJoinPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                Recorder recorder = new Recorder();
                ConcurrentLinkedQueue<String> gone = new ConcurrentLinkedQueue<>();
                Mailbox mailbox = new Mailbox(100_000, executor, recorder);
                int accepted = 0;
                int jobs = 0;
                for (int i = 0; i < 50_000; i++) {
                    Mailbox.Offer o = i % 10 == 0 ? mailbox.offerWork(new Job("w" + i, gone))
                            : mailbox.offer(Message.of("t", "m" + i), OverflowPolicy.BLOCK, Duration.ofSeconds(5));
                    assertThat(o).isEqualTo(Mailbox.Offer.ACCEPTED);
                    accepted++;
                    jobs += i % 10 == 0 ? 1 : 0;
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> recorder.seen.size() > 1000);
                int left = mailbox.close();
                // the worker stops after the item in hand and settles the rest of its batch
                await().atMost(Duration.ofSeconds(30)).until(() -> mailbox.pause(Duration.ofSeconds(1)));
                long handledMessages = recorder.seen.stream().filter(s -> s.startsWith("m")).count();
                long handledJobs = recorder.seen.size() - handledMessages;
                int finalJobs = jobs;
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> handledJobs + gone.size() == finalJobs);
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        handledMessages + recorder.late.get() + left == 50_000 - finalJobs);
                assertThat(recorder.reported.get()).isEqualTo(recorder.seen.size());
                assertThat(recorder.violations).isEmpty();
                assertThat(mailbox.offer(Message.of("t", "after"), OverflowPolicy.BLOCK, Duration.ZERO))
                        .isEqualTo(Mailbox.Offer.CLOSED);
                assertThat(accepted).isEqualTo(50_000);
            }
        } finally {
            executor.shutdownNow();
        }
    }
    @Test
    void aHandlerThatPausesOrClosesItsOwnMailboxStrandsNothingAndHangsNoOne() throws Exception {
        ExecutorService executor = new ForkJoinPool(2);
        try {
            AtomicInteger handled = new AtomicInteger();
            AtomicLong late = new AtomicLong();
            Mailbox[] self = new Mailbox[1];
            List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            Mailbox mailbox = new Mailbox(10_000, executor, new Mailbox.Handler() {
                @Override
                public void handle(Message message) {
                    String p = message.payloadAsString();
                    seen.add(p);
                    handled.incrementAndGet();
                    if (p.equals("m300")) {
                        // pausing itself: its own call is in progress, so the pause cannot find it idle
                        if (self[0].pause(Duration.ZERO)) {
                            seen.add("a pause by its own handler found it idle");
                        }
                        self[0].resume();
                    } else if (p.equals("m600")) {
                        self[0].pause(Duration.ZERO); // stays paused after this call: the rest waits for a resume
                    }
                }

                @Override
                public void droppedAfterClose(int count) {
                    late.addAndGet(count);
                }
            });
            self[0] = mailbox;
            for (int i = 0; i < 1000; i++) {
                mailbox.offer(Message.of("t", "m" + i), OverflowPolicy.BLOCK, Duration.ofSeconds(5));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> handled.get() == 601);
            assertThat(mailbox.pause(Duration.ofSeconds(10))).as("idle once paused by its own handler").isTrue();
            assertThat(mailbox.depth()).isEqualTo(399);
            mailbox.resume();
            assertThat(mailbox.awaitEmpty(Duration.ofSeconds(30))).isTrue();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                expected.add("m" + i);
            }
            assertThat(seen).isEqualTo(expected);

            // and one that closes its own mailbox in the middle of a batch
            AtomicInteger handled2 = new AtomicInteger();
            Mailbox[] self2 = new Mailbox[1];
            int[] left = new int[1];
            Mailbox closing = new Mailbox(10_000, executor, new Mailbox.Handler() {
                @Override
                public void handle(Message message) {
                    if (handled2.incrementAndGet() == 100) {
                        left[0] = self2[0].close();
                    }
                }

                @Override
                public void droppedAfterClose(int count) {
                    late.addAndGet(count);
                }
            });
            self2[0] = closing;
            late.set(0);
            closing.pause(Duration.ofSeconds(1)); // queue them all first, so that the close falls inside a batch
            for (int i = 0; i < 1000; i++) {
                closing.offer(Message.of("t", "m" + i), OverflowPolicy.BLOCK, Duration.ofSeconds(5));
            }
            closing.resume();
            await().atMost(Duration.ofSeconds(30)).until(() -> handled2.get() + late.get() + left[0] == 1000);
            assertThat(handled2.get()).isEqualTo(100);
            assertThat(late.get()).as("the rest of the batch in hand").isEqualTo(Mailbox.BATCH - 100);
            assertThat(closing.awaitEmpty(Duration.ofSeconds(10))).isTrue();
        } finally {
            executor.shutdownNow();
        }
    }
}
