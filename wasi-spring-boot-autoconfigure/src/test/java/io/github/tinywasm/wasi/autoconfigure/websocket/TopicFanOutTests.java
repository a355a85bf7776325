package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The fan-out core on its own, with channels the test drives: what is dropped, when a client counts as stalled,
 * how shutdown ends sessions, and that batches hand over correctly under concurrency. (The real stacks are
 * tested in {@code integration-tests}.)
 */
class TopicFanOutTests {

    /** A channel whose writes complete at once, on the calling thread, recording each frame. */
    static class RecordingChannel implements ClientChannel {
        final List<byte[]> written;
        final List<String> ends = new CopyOnWriteArrayList<>();

        RecordingChannel(List<byte[]> written) {
            this.written = written;
        }

        @Override
        public String id() {
            return "recording";
        }

        @Override
        public Object remoteAddress() {
            return "test";
        }

        @Override
        public void write(List<WireFrame> frames, WriteCallback done) {
            written.addAll(frames.stream().map(WireFrame::bytes).toList());
            done.written();
        }

        @Override
        public void close(int code, String reason, long maxWaitMillis) {
            ends.add("close " + code);
        }

        @Override
        public void abort(int code, String reason) {
            ends.add("abort " + code);
        }
    }

    /** A channel whose writes complete only when the test completes them; it ends its session when closed. */
    static final class ManualChannel implements ClientChannel {
        final List<List<WireFrame>> batches = new CopyOnWriteArrayList<>();
        final List<ClientChannel.WriteCallback> pending = new CopyOnWriteArrayList<>();
        final List<String> ends = new CopyOnWriteArrayList<>();
        TopicFanOut fanOut;
        TopicSession session;

        static ManualChannel open(TopicFanOut fanOut, String topic) {
            ManualChannel c = new ManualChannel();
            c.fanOut = fanOut;
            c.session = fanOut.open(topic, c);
            return c;
        }

        @Override
        public String id() {
            return "manual";
        }

        @Override
        public Object remoteAddress() {
            return "test";
        }

        @Override
        public void write(List<WireFrame> frames, WriteCallback done) {
            batches.add(frames);
            pending.add(done);
        }

        /** Completes the oldest write in flight. */
        void complete() {
            pending.remove(0).written();
        }

        @Override
        public void close(int code, String reason, long maxWaitMillis) {
            ends.add("close " + code);
            fanOut.closed(session, "closed");
        }

        @Override
        public void abort(int code, String reason) {
            ends.add("abort " + code);
            fanOut.closed(session, "aborted");
        }
    }

    private static byte[] frame(int size) {
        return new byte[size];
    }

    @Test
    void framesBeyondTheBufferAreDroppedForThatClientOnlyAndCounted() {
        TopicFanOut fanOut = new TopicFanOut(100, Duration.ofSeconds(10));
        ManualChannel slow = ManualChannel.open(fanOut, "t");
        List<byte[]> fast = new ArrayList<>();
        fanOut.open("t", new RecordingChannel(fast));
        for (int i = 0; i < 10; i++) {
            fanOut.broadcast("m", "t", frame(30));
        }
        // the slow client holds the frame being written and two queued ones (90 bytes); a fourth would pass 100
        assertThat(fanOut.stats().framesDropped()).isEqualTo(7);
        assertThat(fast).hasSize(10);
        assertThat(slow.batches).hasSize(1);
        slow.complete();
        assertThat(slow.batches).hasSize(2);
        assertThat(slow.batches.get(1)).hasSize(2); // everything queued meanwhile, in one batch
        slow.complete();
        assertThat(fanOut.stats().framesSent()).isEqualTo(13);
    }

    @Test
    void aFrameLargerThanTheBufferGoesWhenNothingElseIsBuffered() {
        TopicFanOut fanOut = new TopicFanOut(100, Duration.ofSeconds(10));
        ManualChannel client = ManualChannel.open(fanOut, "t");
        fanOut.broadcast("m", "t", frame(1000));
        fanOut.broadcast("m", "t", frame(1));
        assertThat(client.batches).hasSize(1);
        assertThat(fanOut.stats().framesDropped()).isEqualTo(1);
        client.complete();
        fanOut.broadcast("m", "t", frame(1));
        assertThat(client.batches).hasSize(2);
    }

    /** A channel completing on the calling thread and broadcasting again from inside its write: a loop, not recursion. */
    @Test
    void writesCompletingOnTheCallingThreadDoNotGrowTheStack() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10));
        AtomicInteger writes = new AtomicInteger();
        fanOut.open("t", new RecordingChannel(new ArrayList<>()) {
            @Override
            public void write(List<WireFrame> frames, WriteCallback done) {
                if (writes.incrementAndGet() < 200_000) {
                    fanOut.broadcast("m", "t", frame(1)); // queued behind this write: the next batch
                }
                done.written();
            }
        });
        fanOut.broadcast("m", "t", frame(1));
        assertThat(writes.get()).isEqualTo(200_000);
        assertThat(fanOut.stats().framesSent()).isEqualTo(200_000);
    }

    @Test
    void concurrentBroadcastsAndCompletionsOnOtherThreadsDeliverEveryFrameOnceInOrder() throws Exception {
        TopicFanOut fanOut = new TopicFanOut(Long.MAX_VALUE / 2, Duration.ofSeconds(10));
        ExecutorService completer = Executors.newFixedThreadPool(3);
        int clients = 5;
        int producers = 4;
        int perProducer = 20_000;
        List<List<byte[]>> received = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            List<byte[]> got = new CopyOnWriteArrayList<>();
            received.add(got);
            fanOut.open("t", new RecordingChannel(got) {
                @Override
                public void write(List<WireFrame> frames, WriteCallback done) {
                    completer.execute(() -> {
                        written.addAll(frames.stream().map(WireFrame::bytes).toList());
                        done.written();
                    });
                }
            });
        }
        Thread[] threads = new Thread[producers];
        for (int p = 0; p < producers; p++) {
            int producer = p;
            threads[p] = new Thread(() -> {
                for (int i = 0; i < perProducer; i++) {
                    fanOut.broadcast("m", "t", ByteBuffer.allocate(8).putInt(producer).putInt(i).array());
                }
            });
            threads[p].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> received.stream().allMatch(l -> l.size() == producers * perProducer));
        completer.shutdown();
        assertThat(completer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        for (List<byte[]> got : received) {
            int[] next = new int[producers];
            for (byte[] f : got) {
                ByteBuffer b = ByteBuffer.wrap(f);
                int producer = b.getInt();
                assertThat(b.getInt()).isEqualTo(next[producer]++);
            }
        }
        assertThat(fanOut.stats().framesDropped()).isZero();
        assertThat(fanOut.stats().framesSent()).isEqualTo((long) clients * producers * perProducer);
    }

    @Test
    void aClientWhoseWriteOutlivesTheTimeLimitIsAbortedOnceAndTheOthersGoOn() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofMillis(50));
        ManualChannel stalled = ManualChannel.open(fanOut, "t");
        List<byte[]> healthy = new ArrayList<>();
        fanOut.open("t", new RecordingChannel(healthy));
        fanOut.broadcast("m", "t", frame(10));
        fanOut.sweep();
        assertThat(fanOut.stats().stalledClosed()).isZero(); // not yet
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            fanOut.sweep();
            return fanOut.stats().stalledClosed() == 1;
        });
        for (int i = 0; i < 100; i++) {
            fanOut.sweep();
        }
        assertThat(fanOut.stats().stalledClosed()).isEqualTo(1);
        assertThat(stalled.ends).containsExactly("abort " + TopicFanOut.STALLED);
        assertThat(fanOut.sessionCount()).isEqualTo(1);
        fanOut.broadcast("m", "t", frame(10));
        assertThat(healthy).hasSize(2);
        // the stalled write completing late (or failing) changes nothing
        stalled.complete();
        assertThat(fanOut.stats().sendFailures()).isZero();
    }

    @Test
    void anIdleClientIsNeverStalled() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofMillis(1));
        ManualChannel client = ManualChannel.open(fanOut, "t");
        fanOut.broadcast("m", "t", frame(10));
        client.complete();
        // sweeps for many times the time limit find nothing to close
        await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> {
            fanOut.sweep();
            return fanOut.stats().stalledClosed() == 0;
        });
        assertThat(client.ends).isEmpty();
    }

    @Test
    void aFailedWriteClosesThatSessionAndIsCounted() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10));
        ManualChannel client = ManualChannel.open(fanOut, "t");
        fanOut.broadcast("m", "t", frame(10));
        fanOut.broadcast("m", "t", frame(10));
        client.pending.remove(0).failed(new java.io.IOException("broken pipe"));
        assertThat(fanOut.stats().sendFailures()).isEqualTo(1);
        assertThat(client.ends).containsExactly("abort " + TopicFanOut.SERVER_ERROR);
        assertThat(client.batches).hasSize(1); // the queued frame was not written after the failure
        assertThat(fanOut.sessionCount()).isZero();
    }

    /**
     * Shutdown: an idle session is closed with 1001 at once; a busy one with 1001 once its write completes; one whose
     * write never completes is aborted after the grace period, so shutdown does not wait for it.
     */
    @Test
    void shutdownClosesWith1001AndAbortsWhatIsStillWritingAfterTheGrace() throws Exception {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(60));
        fanOut.start();
        ManualChannel idle = ManualChannel.open(fanOut, "a");
        ManualChannel busy = ManualChannel.open(fanOut, "t");
        ManualChannel stalled = ManualChannel.open(fanOut, "t");
        fanOut.broadcast("m", "t", frame(10));
        fanOut.broadcast("m", "t", frame(10)); // queued: dropped by shutdown, never written
        Thread stopping = new Thread(fanOut::stop);
        long started = System.nanoTime();
        stopping.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> idle.ends.size() == 1);
        assertThat(busy.ends).isEmpty();
        busy.complete();
        assertThat(busy.ends).containsExactly("close " + TopicFanOut.GOING_AWAY);
        stopping.join(30_000);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(idle.ends).containsExactly("close " + TopicFanOut.GOING_AWAY);
        assertThat(stalled.ends).containsExactly("abort " + TopicFanOut.GOING_AWAY);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(TopicFanOut.SHUTDOWN_GRACE_MILLIS));
        assertThat(busy.batches).hasSize(1);
        assertThat(fanOut.sessionCount()).isZero();
        assertThat(fanOut.open("t", new RecordingChannel(new ArrayList<>()))).isNull(); // refused while stopped
        assertThat(fanOut.isRunning()).isFalse();
    }
}
