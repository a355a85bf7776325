package io.github.tinywasm.wasi.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The sample: guest modules from {@code modules/} (chat, users, logger, echo, shout, stats, and notes, which
 * answers HTTP at {@code /m/notes}) behind a small page at {@code /}. Everything WebAssembly comes from the starter; this application adds one controller and one
 * event listener.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
