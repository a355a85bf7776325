package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Offsets, history and replay in the fan-out core, with channels the test drives: resuming clients get what they
 * missed and then live frames with no gap and no duplicate, also while broadcasts race their connection; the
 * offsets format; a client that falls behind; a cluster's feed.
 */
class TopicFanOutReplayTests {

    /** A channel that records every frame it is given, completing each write at once. */
    static final class Client implements ClientChannel {
        private final List<WireFrame> written = new ArrayList<>();
        final List<String> ends = new CopyOnWriteArrayList<>();

        @Override
        public String id() {
            return "client";
        }

        @Override
        public Object remoteAddress() {
            return "test";
        }

        @Override
        public void write(List<WireFrame> batch, WriteCallback done) {
            synchronized (written) {
                written.addAll(batch);
            }
            done.written();
        }

        List<WireFrame> frames() {
            synchronized (written) {
                return new ArrayList<>(written);
            }
        }

        @Override
        public void close(int code, String reason, long maxWaitMillis) {
            ends.add("close " + code);
        }

        @Override
        public void abort(int code, String reason) {
            ends.add("abort " + code);
        }

        /** Payloads of the binary frames, without their offsets in the offsets format. */
        List<String> payloads() {
            List<String> out = new ArrayList<>();
            for (WireFrame f : frames()) {
                if (!f.text()) {
                    int skip = offsets ? 1 + f.bytes()[0] : 0;
                    out.add(new String(f.bytes(), skip, f.bytes().length - skip, StandardCharsets.UTF_8));
                }
            }
            return out;
        }

        /** Offsets of the binary frames (offsets format). */
        List<String> offsets() {
            return frames().stream().filter(f -> !f.text())
                    .map(f -> new String(f.bytes(), 1, f.bytes()[0], StandardCharsets.US_ASCII)).toList();
        }

        List<String> notices() {
            return frames().stream().filter(WireFrame::text).map(WireFrame::asText).toList();
        }

        boolean offsets;
    }

    private static Client open(TopicFanOut fanOut, String topic, String since, boolean offsets) {
        Client c = new Client();
        c.offsets = offsets;
        fanOut.open(topic, c, since, offsets);
        return c;
    }

    private static void say(TopicFanOut fanOut, String topic, String text) {
        fanOut.broadcast("m", topic, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aClientResumingAfterItsOffsetGetsWhatItMissedThenLiveFrames() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10), 100);
        Client first = open(fanOut, "t", null, true);
        say(fanOut, "t", "one");
        say(fanOut, "t", "two");
        assertThat(first.notices()).hasSize(1);
        assertThat(first.notices().get(0)).startsWith("{\"type\":\"live\",\"topic\":\"t\",\"offset\":\"").endsWith(":0\",\"replayed\":0}");
        assertThat(first.payloads()).containsExactly("one", "two");
        String seen = first.offsets().get(0); // the client saw "one", then went away
        String epoch = seen.substring(0, seen.indexOf(':'));
        assertThat(first.offsets()).containsExactly(epoch + ":1", epoch + ":2");

        say(fanOut, "t", "three");
        Client back = open(fanOut, "t", seen, true);
        say(fanOut, "t", "four");
        assertThat(back.payloads()).containsExactly("two", "three", "four");
        assertThat(back.offsets()).containsExactly(epoch + ":2", epoch + ":3", epoch + ":4");
        assertThat(back.notices()).containsExactly(
                "{\"type\":\"live\",\"topic\":\"t\",\"offset\":\"" + epoch + ":3\",\"replayed\":2}");
        // the notice comes after the replayed frames, before the live one
        assertThat(back.frames().get(2).text()).isTrue();
        assertThat(fanOut.stats().replaysRecovered()).isEqualTo(1);
        assertThat(fanOut.lastOffset("t")).hasToString(epoch + ":4");
    }

    @Test
    void theHistoryOutlivesTheTopicsClientsOnOneNode() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10), 100);
        say(fanOut, "t", "before anyone came");
        Client gone = new Client();
        fanOut.closed(fanOut.open("t", gone), "gone");
        say(fanOut, "t", "after the last one left");
        String epoch = fanOut.lastOffset("t").epoch();
        Client late = open(fanOut, "t", epoch + ":0", false);
        assertThat(late.payloads()).containsExactly("before anyone came", "after the last one left");
        assertThat(late.notices()).isEmpty(); // raw format: replayed, no notice
        assertThat(gone.frames()).isEmpty();
        // a topic only clients asked for does not stay
        fanOut.closed(fanOut.open("nobody-broadcasts", new Client()), "gone");
        assertThat(fanOut.lastOffset("nobody-broadcasts")).isNull();
        assertThat(fanOut.topics()).containsExactly("t");
    }

    @Test
    void anOffsetThatCannotBeResumedGetsAResetNoticeThenLiveFrames() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10), 2);
        for (int i = 1; i <= 5; i++) {
            say(fanOut, "t", "f" + i);
        }
        String epoch = fanOut.lastOffset("t").epoch();
        Client old = open(fanOut, "t", epoch + ":1", true);
        Client restarted = open(fanOut, "t", "zzzzzzzz:4", true);
        Client garbage = open(fanOut, "t", "banana", true);
        say(fanOut, "t", "f6");
        assertThat(old.notices()).containsExactly("{\"type\":\"reset\",\"topic\":\"t\",\"offset\":\"" + epoch
                + ":5\",\"reason\":\"out-of-history\",\"requested\":\"" + epoch + ":1\"}");
        assertThat(old.payloads()).containsExactly("f6");
        assertThat(restarted.notices().get(0)).contains("\"reason\":\"other-epoch\"");
        assertThat(garbage.notices().get(0)).contains("\"reason\":\"invalid\"");
        assertThat(fanOut.stats().replaysReset()).isEqualTo(3);
        assertThat(fanOut.stats().replaysRecovered()).isZero();
    }

    /**
     * Clients connect with random offsets while a guest broadcasts numbers as fast as it can: each gets exactly the
     * numbers after its offset, in order, none missing, none twice.
     */
    @Test
    void resumingWhileBroadcastsRaceTheConnectionLosesAndRepeatsNothing() throws Exception {
        TopicFanOut fanOut = new TopicFanOut(Long.MAX_VALUE / 2, Duration.ofSeconds(10), 1_000_000);
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean connecting = new AtomicBoolean(true);
        Thread guest = new Thread(() -> {
            int i = 0;
            while (connecting.get() || i < 20_000) {
                fanOut.broadcast("m", "t", ByteBuffer.allocate(4).putInt(++i).array());
                sent.set(i);
            }
        });
        Client first = open(fanOut, "t", null, true);
        guest.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() > 10);
        String epoch = fanOut.lastOffset("t").epoch();
        List<Client> clients = new ArrayList<>();
        List<Integer> sinces = new ArrayList<>();
        for (int c = 0; c < 200; c++) {
            int since = ThreadLocalRandom.current().nextInt(0, sent.get() + 1);
            sinces.add(since);
            clients.add(open(fanOut, "t", epoch + ":" + since, true));
        }
        int duringConnections = sent.get();
        connecting.set(false);
        guest.join();
        int total = sent.get();
        assertThat(total).isGreaterThan(duringConnections); // broadcasts went on while the last client connected
        for (int c = 0; c < clients.size(); c++) {
            List<WireFrame> frames = clients.get(c).frames().stream().filter(f -> !f.text()).toList();
            int expected = sinces.get(c) + 1;
            for (WireFrame f : frames) {
                int n = ByteBuffer.wrap(f.bytes(), 1 + f.bytes()[0], 4).getInt();
                assertThat(n).as("client %d resuming after %d", c, sinces.get(c)).isEqualTo(expected++);
            }
            assertThat(expected - 1).isEqualTo(total);
            assertThat(clients.get(c).notices()).hasSize(1);
        }
        assertThat(first.offsets()).hasSize(total);
    }

    @Test
    void aClientInTheOffsetsFormatThatFallsBehindIsClosedToResumeInsteadOfLosingFrames() {
        TopicFanOut fanOut = new TopicFanOut(100, Duration.ofSeconds(10), 100);
        TopicFanOutTests.ManualChannel raw = TopicFanOutTests.ManualChannel.open(fanOut, "t");
        TopicFanOutTests.ManualChannel behind = new TopicFanOutTests.ManualChannel();
        behind.fanOut = fanOut;
        behind.session = fanOut.open("t", behind, null, true);
        // the notice is being written; frames queue behind it until the buffer is full
        for (int i = 0; i < 10; i++) {
            fanOut.broadcast("m", "t", new byte[30]);
        }
        assertThat(fanOut.stats().laggingClosed()).isEqualTo(1);
        assertThat(behind.ends).isEmpty(); // after the write in flight
        behind.complete();
        assertThat(behind.ends).containsExactly("close " + WireFormat.LAGGING);
        assertThat(fanOut.stats().framesDropped()).isPositive(); // the raw client drops, as before
        assertThat(raw.ends).isEmpty();
    }

    /** A cluster's fan-out: frames come from the feed, with the stream's offsets. */
    @Test
    void aFedFanOutTakesItsFramesFromTheFeedOnly() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10), 10);
        AtomicInteger changes = new AtomicInteger();
        fanOut.feedFrom(changes::incrementAndGet);
        Client waiting = open(fanOut, "t", null, true);
        assertThat(changes.get()).isEqualTo(1);
        assertThat(fanOut.live("t")).isFalse();
        long generation = fanOut.followedTopics().get("t");
        say(fanOut, "t", "ignored: the relay sends it to the stream");
        assertThat(fanOut.lastOffset("t")).isNull();

        TopicOffset o1 = TopicOffset.ofStreamId("str3am", "100-0");
        TopicOffset o2 = TopicOffset.ofStreamId("str3am", "100-1");
        assertThat(fanOut.load("t", generation + 1, "str3am", TopicOffset.start("str3am"), List.of())).isFalse();
        assertThat(fanOut.load("t", generation, "str3am", TopicOffset.start("str3am"),
                List.of(new FeedFrame(o1, "a".getBytes(StandardCharsets.UTF_8))))).isTrue();
        assertThat(fanOut.live("t")).isTrue();
        assertThat(waiting.notices()).containsExactly("{\"type\":\"live\",\"topic\":\"t\",\"offset\":\"str3am:100-0\",\"replayed\":0}");
        assertThat(fanOut.deliver("t", o2, "b".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(fanOut.deliver("t", o2, "b again".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(fanOut.deliver("t", TopicOffset.ofStreamId("other", "200-0"), new byte[1])).isFalse();
        assertThat(waiting.payloads()).containsExactly("b");
        assertThat(waiting.offsets()).containsExactly("str3am:100-1");

        // a client that saw further on another node skips what it saw
        Client ahead = open(fanOut, "t", "str3am:100-3", true);
        fanOut.deliver("t", TopicOffset.ofStreamId("str3am", "100-2"), "c".getBytes(StandardCharsets.UTF_8));
        fanOut.deliver("t", TopicOffset.ofStreamId("str3am", "100-3"), "d".getBytes(StandardCharsets.UTF_8));
        fanOut.deliver("t", TopicOffset.ofStreamId("str3am", "100-4"), "e".getBytes(StandardCharsets.UTF_8));
        assertThat(ahead.payloads()).containsExactly("e");
        Client resumed = open(fanOut, "t", "str3am:100-1", true);
        assertThat(resumed.payloads()).containsExactly("c", "d", "e");

        // the last client gone, the topic is no longer followed
        TopicSession s = fanOut.open("u", new Client());
        assertThat(fanOut.followedTopics()).containsKeys("t", "u");
        int before = changes.get();
        fanOut.closed(s, "gone");
        assertThat(fanOut.followedTopics()).doesNotContainKey("u");
        assertThat(changes.get()).isEqualTo(before + 1);
    }

    @Test
    void aTopicLoadedAnewKeepsItsClientsLive() {
        TopicFanOut fanOut = new TopicFanOut(1 << 20, Duration.ofSeconds(10), 10);
        AtomicBoolean changed = new AtomicBoolean();
        fanOut.feedFrom(() -> changed.set(true));
        Client c = open(fanOut, "t", null, false);
        long generation = fanOut.followedTopics().get("t");
        fanOut.load("t", generation, "old", TopicOffset.start("old"), List.of());
        fanOut.deliver("t", TopicOffset.ofStreamId("old", "5-0"), "x".getBytes(StandardCharsets.UTF_8));
        // Redis lost its data: the stream starts again in a new epoch
        fanOut.load("t", generation, "new", TopicOffset.start("new"), List.of());
        fanOut.deliver("t", TopicOffset.ofStreamId("new", "1-0"), "y".getBytes(StandardCharsets.UTF_8));
        assertThat(c.payloads()).containsExactly("x", "y");
    }
}
