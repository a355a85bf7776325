package io.github.tinywasm.wasi.module;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Turns a guest's stdout or stderr into log lines: bytes are collected until a newline (or 8 KiB) and each
 * line is handed to a consumer. Confined to the thread running the guest, like the instance itself.
 */
final class LineLogStream extends OutputStream {

    private static final int MAX_LINE = 8192;

    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final Consumer<String> sink;

    LineLogStream(Consumer<String> sink) {
        this.sink = sink;
    }

    @Override
    public void write(int b) {
        if (b == '\n') {
            emit();
        } else {
            line.write(b);
            if (line.size() >= MAX_LINE) {
                emit();
            }
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    @Override
    public void flush() {
        // A partial line stays buffered: guests often write a line in several fd_write calls.
    }

    @Override
    public void close() {
        if (line.size() > 0) {
            emit();
        }
    }

    private void emit() {
        int n = line.size();
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (n > 0 && text.charAt(text.length() - 1) == '\r') {
            text = text.substring(0, text.length() - 1);
        }
        sink.accept(text);
    }
}
