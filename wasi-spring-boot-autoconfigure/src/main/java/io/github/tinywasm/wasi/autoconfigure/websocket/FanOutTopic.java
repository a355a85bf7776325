package io.github.tinywasm.wasi.autoconfigure.websocket;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One topic in the {@link TopicFanOut}: its clients and its history. Guarded by its own monitor: the history,
 * {@code waiting}, {@code removed}, and every change of {@code sessions} (a copy-on-write array, also read without
 * the monitor for inspection). Frames are offered to the clients under the monitor, so that every client of a
 * topic gets its frames in the order of their offsets, and a client that joins gets exactly the frames after what
 * it was replayed.
 */
final class FanOutTopic {

    private static final TopicSession[] NONE = new TopicSession[0];

    final String name;
    /** Tells this topic from an earlier one of the same name (a cluster follows each anew). */
    final long generation;
    volatile TopicSession[] sessions = NONE;
    /** {@code null} in a cluster until the feed has loaded it. */
    @Nullable TopicHistory history;
    /** A cluster's clients waiting for the history, with what they resume after. */
    final List<Waiting> waiting = new ArrayList<>(0);
    /** Gone from the fan-out's map: whoever holds it looks again. */
    boolean removed;

    FanOutTopic(String name, long generation, @Nullable TopicHistory history) {
        this.name = name;
        this.generation = generation;
        this.history = history;
    }

    void add(TopicSession session) {
        TopicSession[] base = sessions;
        TopicSession[] more = Arrays.copyOf(base, base.length + 1);
        more[base.length] = session;
        sessions = more;
    }

    void remove(TopicSession session) {
        waiting.removeIf(w -> w.session() == session);
        TopicSession[] base = sessions;
        int i = Arrays.asList(base).indexOf(session);
        if (i < 0) {
            return;
        }
        if (base.length == 1) {
            sessions = NONE;
            return;
        }
        TopicSession[] left = new TopicSession[base.length - 1];
        System.arraycopy(base, 0, left, 0, i);
        System.arraycopy(base, i + 1, left, i, base.length - i - 1);
        sessions = left;
    }

    boolean hasClients() {
        return sessions.length > 0 || !waiting.isEmpty();
    }

    /** A client of a cluster's topic whose history is not loaded yet. */
    record Waiting(TopicSession session, @Nullable String since) {}
}
