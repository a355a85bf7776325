package io.github.tinywasm.wasi.bench;

import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * The HTTP benchmark's server: Spring MVC on Tomcat with the starter's {@code /m/{name}} route and
 * {@link PlainController}. No component scan, so the fan-out benchmark's STOMP broker stays out of it.
 */
@EnableAutoConfiguration
@Import(PlainController.class)
public class HttpBenchApplication {
}
