package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.DropReason;
import io.github.tinywasm.wasi.Message;
import io.github.tinywasm.wasi.Subscription;
import io.github.tinywasm.wasi.WasiConfig;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Java consumer on the bus, with a mailbox of its own: it receives messages in publish order on a thread of the
 * subscribers' pool ({@code wasi-subscriber-N}), never on the publisher's thread nor on the guests' workers. So a slow
 * consumer delays neither guests nor publishers (within the mailbox's capacity); it holds one subscriber thread, and
 * as many slow consumers as subscriber threads delay the other Java subscribers only. Drops (mailbox full, or queued
 * when closed) are counted here and in the server's {@link SubscriberDrops}.
 */
public final class JavaSubscription implements Subscription, TopicBus.Subscriber, Mailbox.Handler {

    private static final Logger log = LoggerFactory.getLogger(JavaSubscription.class);

    private final String topic;
    private final Consumer<Message> consumer;
    private final WasiConfig config;
    private final Mailbox mailbox;
    private final Runnable onClose;
    private final BusInterceptor interceptor;
    private final LongAdder dropped = new LongAdder();
    private final SubscriberDrops drops;

    public JavaSubscription(String topic, Consumer<Message> consumer, WasiConfig config, Executor executor,
            BusInterceptor interceptor, SubscriberDrops drops, Runnable onClose) {
        this.drops = drops;
        this.topic = topic;
        this.consumer = consumer;
        this.config = config;
        this.mailbox = new Mailbox(config.mailboxCapacity(), executor, this);
        this.interceptor = interceptor;
        this.onClose = onClose;
    }

    @Override
    public void offer(Message message) {
        Mailbox.Offer result = mailbox.offer(message, config.overflowPolicy(), config.publishTimeout());
        if (result != Mailbox.Offer.ACCEPTED) {
            dropped.increment();
            drops.dropped(topic, result == Mailbox.Offer.FULL ? DropReason.MAILBOX_FULL : DropReason.CLOSED, 1);
        }
    }

    @Override
    public void handle(Message message) {
        BusInterceptor.Scope scope = interceptor.beforeProcess(null, message);
        RuntimeException failure = null;
        try {
            consumer.accept(message);
        } catch (RuntimeException e) {
            failure = e;
            log.warn("Java subscriber of '{}' failed on a message from {}: {}", topic,
                    message.source() != null ? "module '" + message.source() + "'" : "Java", e.toString(), e);
        } finally {
            scope.close(failure);
        }
    }

    @Override
    public void droppedAfterClose(int count) {
        dropped.add(count);
        drops.dropped(topic, DropReason.CLOSED, count);
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Waits up to {@code timeout} until every message queued for the consumer has been handled; returns whether it was.
     * Called from the consumer itself it cannot wait (for itself) and returns false at once.
     */
    public boolean awaitDelivered(Duration timeout) {
        return mailbox.awaitEmpty(timeout);
    }

    /** Messages queued for the consumer, not yet handled. */
    public int queued() {
        return mailbox.depth();
    }

    @Override
    public void close() {
        closeCounting();
    }

    @Override
    public int drainAndClose(Duration timeout) {
        onClose.run(); // off the bus first: what it accepted is all it will get
        mailbox.awaitEmpty(timeout);
        return closeCounting();
    }

    /** Ends the subscription; messages still queued are dropped and counted. Returns how many. */
    public int closeCounting() {
        onClose.run();
        int left = mailbox.close();
        dropped.add(left);
        drops.dropped(topic, DropReason.CLOSED, left);
        return left;
    }
}
