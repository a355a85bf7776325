package io.github.tinywasm.wasi;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Captures log events of the whole process while open. */
public final class LogCapture implements AutoCloseable {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    public LogCapture() {
        appender.start();
        root.addAppender(appender);
    }

    /** Every formatted line, prefixed with its logger name. */
    public List<String> lines() {
        synchronized (appender.list) {
            return appender.list.stream().map(e -> e.getLoggerName() + " " + e.getFormattedMessage()).toList();
        }
    }

    public boolean contains(String loggerPrefix, String text) {
        return lines().stream().anyMatch(l -> l.startsWith(loggerPrefix) && l.contains(text));
    }

    @Override
    public void close() {
        root.detachAppender(appender);
    }
}
