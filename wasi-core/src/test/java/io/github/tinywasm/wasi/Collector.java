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

    /** Subscribes to {@code out}, publishes {@code text} on {@code in}, and returns the text of the first reply. */
    public static String roundTrip(WasiServer server, String in, String out, String text) {
        Collector replies = new Collector();
        try (Subscription s = server.subscribe(out, replies)) {
            server.publish(in, text);
            return replies.awaitCount(1).get(0).payloadAsString();
        }
    }

    public List<Message> awaitCount(int n, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(5)).until(() -> size() >= n);
        return messages();
    }
}
