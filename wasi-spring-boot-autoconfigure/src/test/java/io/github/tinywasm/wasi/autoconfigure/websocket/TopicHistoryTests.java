package io.github.tinywasm.wasi.autoconfigure.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicHistory.Replay;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The history of one topic and its offsets, on their own. */
class TopicHistoryTests {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> texts(Replay replay) {
        return replay.missed().stream().map(e -> new String(e.payload(), StandardCharsets.UTF_8)).toList();
    }

    private static TopicHistory withFrames(int capacity, int frames) {
        TopicHistory h = new TopicHistory(capacity, "ep0ch");
        for (int i = 1; i <= frames; i++) {
            h.next(bytes("f" + i));
        }
        return h;
    }

    @Test
    void offsetsAreTokensThatReadBackTheSame() {
        assertThat(new TopicOffset("ab12", 0, 42)).hasToString("ab12:42");
        assertThat(new TopicOffset("ab12", 1700000000000L, 3)).hasToString("ab12:1700000000000-3");
        assertThat(TopicOffset.parse("ab12:42")).isEqualTo(new TopicOffset("ab12", 0, 42));
        assertThat(TopicOffset.parse("ab12:1700000000000-3")).isEqualTo(new TopicOffset("ab12", 1700000000000L, 3));
        assertThat(TopicOffset.ofStreamId("ab12", "1-0")).isEqualTo(new TopicOffset("ab12", 1, 0));
        assertThat(new TopicOffset("e", 5, 7).streamId()).isEqualTo("5-7");
        assertThat(TopicOffset.parse("ab12:0")).isEqualTo(TopicOffset.start("ab12"));
        for (String bad : new String[] {"", "42", ":42", "ab12:", "ab12:-1", "ab12:1-", "a:b", "ab 12:1", "é:1",
                "ab12:99999999999999999999", "ab12:1-2-3", "x".repeat(70) + ":1"}) {
            assertThat(TopicOffset.parse(bad)).as(bad).isNull();
        }
        assertThat(TopicOffset.parse(null)).isNull();
        assertThat(new TopicOffset("e", 2, 0).isAfter(new TopicOffset("e", 1, 99))).isTrue();
        assertThat(new TopicOffset("e", 1, 3).isAfter(new TopicOffset("e", 1, 3))).isFalse();
        assertThat(TopicOffset.newEpoch()).matches("[a-z0-9]{8}").isNotEqualTo(TopicOffset.newEpoch());
    }

    @Test
    void framesAreNumberedFromOneAndAClientResumesAfterItsOffset() {
        TopicHistory h = withFrames(10, 5);
        assertThat(h.last()).hasToString("ep0ch:5");
        Replay r = h.replay("ep0ch:2", false);
        assertThat(r.outcome()).isEqualTo(Replay.Outcome.RECOVERED);
        assertThat(texts(r)).containsExactly("f3", "f4", "f5");
        assertThat(r.position()).hasToString("ep0ch:5");
        assertThat(r.missed().get(0).offset()).hasToString("ep0ch:3");
        // from before the first frame, and from the last one
        assertThat(texts(h.replay("ep0ch:0", false))).containsExactly("f1", "f2", "f3", "f4", "f5");
        Replay upToDate = h.replay("ep0ch:5", false);
        assertThat(upToDate.outcome()).isEqualTo(Replay.Outcome.RECOVERED);
        assertThat(upToDate.missed()).isEmpty();
    }

    @Test
    void aClientWithoutAnOffsetIsLiveAfterTheLastFrame() {
        TopicHistory h = withFrames(10, 3);
        Replay r = h.replay(null, false);
        assertThat(r.outcome()).isEqualTo(Replay.Outcome.LIVE);
        assertThat(r.missed()).isEmpty();
        assertThat(r.position()).hasToString("ep0ch:3");
        assertThat(new TopicHistory(10, "e").replay(null, false).position()).hasToString("e:0");
    }

    @Test
    void anOffsetOlderThanTheHistoryIsReset() {
        TopicHistory h = withFrames(3, 5); // keeps f3..f5
        assertThat(h.floor()).hasToString("ep0ch:2");
        Replay old = h.replay("ep0ch:1", false);
        assertThat(old.outcome()).isEqualTo(Replay.Outcome.RESET);
        assertThat(old.reason()).isEqualTo(TopicHistory.OUT_OF_HISTORY);
        assertThat(old.missed()).isEmpty();
        assertThat(old.position()).hasToString("ep0ch:5");
        // the last frame that fell out still resumes: everything after it is here
        assertThat(texts(h.replay("ep0ch:2", false))).containsExactly("f3", "f4", "f5");
    }

    @Test
    void anOffsetOfAnotherEpochOrNoOffsetAtAllIsReset() {
        TopicHistory h = withFrames(10, 3);
        Replay other = h.replay("0ther:2", false);
        assertThat(other.outcome()).isEqualTo(Replay.Outcome.RESET);
        assertThat(other.reason()).isEqualTo(TopicHistory.OTHER_EPOCH);
        Replay garbage = h.replay("yesterday", false);
        assertThat(garbage.outcome()).isEqualTo(Replay.Outcome.RESET);
        assertThat(garbage.reason()).isEqualTo(TopicHistory.INVALID);
    }

    @Test
    void anOffsetAheadOfTheLastFrameIsInvalidOnOneNodeAndSkippedToInACluster() {
        TopicHistory h = withFrames(10, 3);
        assertThat(h.replay("ep0ch:9", false).reason()).isEqualTo(TopicHistory.INVALID);
        Replay ahead = h.replay("ep0ch:9", true);
        assertThat(ahead.outcome()).isEqualTo(Replay.Outcome.RECOVERED);
        assertThat(ahead.missed()).isEmpty();
        assertThat(ahead.skipThrough()).hasToString("ep0ch:9");
        assertThat(ahead.position()).hasToString("ep0ch:9");
    }

    @Test
    void withoutHistoryOnlyTheLastOffsetResumes() {
        TopicHistory h = withFrames(0, 4);
        assertThat(h.size()).isZero();
        Replay last = h.replay("ep0ch:4", false);
        assertThat(last.outcome()).isEqualTo(Replay.Outcome.RECOVERED);
        assertThat(last.missed()).isEmpty();
        assertThat(h.replay("ep0ch:3", false).reason()).isEqualTo(TopicHistory.OUT_OF_HISTORY);
    }

    @Test
    void aClusterHistoryTakesTheStreamsEntriesInOrderOnce() {
        TopicOffset floor = TopicOffset.ofStreamId("ep0ch", "100-0");
        TopicHistory h = TopicHistory.loaded(3, "ep0ch", floor, List.of(
                new TopicHistory.Entry(TopicOffset.ofStreamId("ep0ch", "100-1"), bytes("a")),
                new TopicHistory.Entry(TopicOffset.ofStreamId("ep0ch", "101-0"), bytes("b"))));
        assertThat(h.last()).hasToString("ep0ch:101-0");
        assertThat(h.append(TopicOffset.ofStreamId("ep0ch", "101-0"), bytes("b again"))).isNull();
        assertThat(h.append(TopicOffset.ofStreamId("ep0ch", "100-5"), bytes("older"))).isNull();
        assertThat(h.append(TopicOffset.ofStreamId("ep0ch", "102-0"), bytes("c"))).isNotNull();
        assertThat(texts(h.replay("ep0ch:100-0", true))).containsExactly("a", "b", "c");
        assertThat(h.append(TopicOffset.ofStreamId("ep0ch", "103-0"), bytes("d"))).isNotNull(); // a falls out
        assertThat(h.replay("ep0ch:100-0", true).reason()).isEqualTo(TopicHistory.OUT_OF_HISTORY);
        assertThat(texts(h.replay("ep0ch:100-1", true))).containsExactly("b", "c", "d");
        assertThatIllegalArgumentException().isThrownBy(() -> h.append(TopicOffset.ofStreamId("other", "200-0"), bytes("x")));
    }

    @Test
    void loadingMoreThanTheCapacityKeepsTheLatestAndRaisesTheFloor() {
        TopicHistory h = TopicHistory.loaded(2, "e", TopicOffset.start("e"), List.of(
                new TopicHistory.Entry(TopicOffset.ofStreamId("e", "1-0"), bytes("a")),
                new TopicHistory.Entry(TopicOffset.ofStreamId("e", "2-0"), bytes("b")),
                new TopicHistory.Entry(TopicOffset.ofStreamId("e", "3-0"), bytes("c"))));
        assertThat(h.floor()).hasToString("e:1-0");
        assertThat(texts(h.replay("e:1-0", true))).containsExactly("b", "c");
        assertThat(h.replay("e:0", true).reason()).isEqualTo(TopicHistory.OUT_OF_HISTORY);
    }

    @Test
    void theOffsetsFormatPutsTheOffsetBeforeThePayload() {
        TopicHistory.Entry e = new TopicHistory.Entry(new TopicOffset("ep0ch", 0, 7), bytes("hi"));
        byte[] raw = e.frame(false).bytes();
        assertThat(raw).isEqualTo(bytes("hi"));
        byte[] framed = e.frame(true).bytes();
        assertThat(framed[0]).isEqualTo((byte) "ep0ch:7".length());
        assertThat(new String(framed, 1, framed[0], StandardCharsets.US_ASCII)).isEqualTo("ep0ch:7");
        assertThat(new String(framed, 1 + framed[0], framed.length - 1 - framed[0], StandardCharsets.UTF_8)).isEqualTo("hi");
        assertThat(e.frame(true)).isSameAs(e.frame(true));
        assertThat(WireFormat.live("a\"b", new TopicOffset("e", 0, 3), 2).asText())
                .isEqualTo("{\"type\":\"live\",\"topic\":\"a\\\"b\",\"offset\":\"e:3\",\"replayed\":2}");
        assertThat(WireFormat.reset("t", new TopicOffset("e", 0, 3), "out-of-history", "e:1").asText())
                .isEqualTo("{\"type\":\"reset\",\"topic\":\"t\",\"offset\":\"e:3\",\"reason\":\"out-of-history\",\"requested\":\"e:1\"}");
        assertThat(WireFormat.json("\u0001\n")).isEqualTo("\"\\u0001\\n\"");
    }
}
