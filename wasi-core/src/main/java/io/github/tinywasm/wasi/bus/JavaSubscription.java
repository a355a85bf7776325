package io.github.tinywasm.wasi.bus;

import io.github.tinywasm.wasi.BusInterceptor;
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
 * A Java consumer on the bus, with a mailbox of its own: it receives messages in publish order on a pool
 * thread, never on the publisher's thread (so a slow consumer delays neither guests nor publishers, within
 * the mailbox's capacity).
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

    public JavaSubscription(String topic, Consumer<Message> consumer, WasiConfig config, Executor executor,
            BusInterceptor interceptor, Runnable onClose) {
        this.topic = topic;
        this.consumer = consumer;
        this.config = config;
        this.mailbox = new Mailbox(config.mailboxCapacity(), executor, this);
        this.interceptor = interceptor;
        this.onClose = onClose;
    }

    @Override
    public void offer(Message message) {
        if (mailbox.offer(message, config.overflowPolicy(), config.publishTimeout()) != Mailbox.Offer.ACCEPTED) {
            dropped.increment();
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
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    /** Waits up to {@code timeout} until every message queued for the consumer has been handled; returns whether it was. */
    public boolean awaitDelivered(Duration timeout) {
        return mailbox.awaitEmpty(timeout);
    }

    @Override
    public void close() {
        closeCounting();
    }

    /** Ends the subscription; messages still queued are dropped and counted. Returns how many. */
    public int closeCounting() {
        onClose.run();
        int left = mailbox.close();
        dropped.add(left);
        return left;
    }
}
