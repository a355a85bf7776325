package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.Message;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routes messages by topic to subscribers. Publishing only offers the message to each subscriber's mailbox;
 * it never runs a subscriber on the publisher's thread, so the order in which one thread publishes is the
 * order in which every subscriber receives.
 *
 * <p>Threads: any thread may publish, subscribe and unsubscribe. The subscriber lists are copy-on-write
 * arrays in a {@link ConcurrentHashMap}, replaced atomically under the map's per-key lock, so publishing
 * takes no lock of the bus.
 */
public final class TopicBus {

    /** Something that receives messages: a module slot or a Java subscription. */
    public interface Subscriber {
        /** Queues the message; never runs guest code on the caller's thread. */
        void offer(Message message);
    }

    private static final Subscriber[] NONE = new Subscriber[0];

    private final ConcurrentHashMap<String, Subscriber[]> byTopic = new ConcurrentHashMap<>();
    private volatile Subscriber[] wildcard = NONE;
    private final LongAdder published = new LongAdder();
    private final BusInterceptor interceptor;

    public TopicBus(BusInterceptor interceptor) {
        this.interceptor = interceptor;
    }

    /**
     * Offers the message to every wildcard subscriber, then to every subscriber of its topic. Wildcard
     * subscribers (observers such as the event bridge) come first so that they see a message before anything
     * a guest publishes in reaction to it.
     */
    public void publish(Message published) {
        Message message = interceptor.beforePublish(published);
        this.published.increment();
        for (Subscriber s : wildcard) {
            s.offer(message);
        }
        Subscriber[] subs = byTopic.get(message.topic());
        if (subs != null) {
            for (Subscriber s : subs) {
                s.offer(message);
            }
        }
    }

    public void subscribe(String topic, Subscriber subscriber) {
        Message.requireTopic(topic);
        byTopic.compute(topic, (t, subs) -> {
            if (subs == null) {
                return new Subscriber[] {subscriber};
            }
            for (Subscriber s : subs) {
                if (s == subscriber) {
                    return subs;
                }
            }
            Subscriber[] more = Arrays.copyOf(subs, subs.length + 1);
            more[subs.length] = subscriber;
            return more;
        });
    }

    public void unsubscribe(String topic, Subscriber subscriber) {
        byTopic.computeIfPresent(topic, (t, subs) -> {
            Subscriber[] left = Arrays.stream(subs).filter(s -> s != subscriber).toArray(Subscriber[]::new);
            return left.length == 0 ? null : left;
        });
    }

    public synchronized void subscribeAll(Subscriber subscriber) {
        Subscriber[] more = Arrays.copyOf(wildcard, wildcard.length + 1);
        more[wildcard.length] = subscriber;
        wildcard = more;
    }

    public synchronized void unsubscribeAll(Subscriber subscriber) {
        wildcard = Arrays.stream(wildcard).filter(s -> s != subscriber).toArray(Subscriber[]::new);
    }

    /** Topics with at least one subscriber, sorted. */
    public Set<String> topics() {
        return new TreeSet<>(byTopic.keySet());
    }

    public long publishedCount() {
        return published.sum();
    }
}
