package io.github.tinywasm.wasi;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Collects messages a Java subscriber receives; waits for them with a deadline. */
public final class Collector implements Consumer<Message> {

    private final List<Message> messages = new ArrayList<>();

    @Override
    public synchronized void accept(Message m) {
        messages.add(m);
    }

    public synchronized List<Message> messages() {
        return new ArrayList<>(messages);
    }

    public synchronized List<String> texts() {
        return messages.stream().map(Message::payloadAsString).toList();
    }

    public synchronized int size() {
        return messages.size();
    }

    public List<Message> awaitCount(int n) {
        return awaitCount(n, Duration.ofSeconds(20));
    }

    public List<Message> awaitCount(int n, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(5)).until(() -> size() >= n);
        return messages();
    }
}
