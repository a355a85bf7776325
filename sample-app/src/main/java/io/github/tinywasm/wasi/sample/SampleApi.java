package io.github.tinywasm.wasi.sample;

import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import java.util.Map;
import java.util.Set;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

import static org.springframework.web.servlet.function.RouterFunctions.route;

/**
 * What the page calls besides {@code /ws} and {@code /m/notes}:
 * <ul>
 * <li>{@code POST /api/publish/{topic}} publishes the request body on the bus, for the topics the sample's guests
 * listen to (their answers come back over {@code /ws?topic=});</li>
 * <li>{@code GET /api/users} returns the roster the application last heard from the users module, through an
 * ApplicationEvent;</li>
 * <li>{@code POST /api/demo/swap} puts the other version of {@code chat.wasm} into the modules folder
 * ({@link ChatSwapDemo}).</li>
 * </ul>
 * Functional endpoints rather than {@code @RestController}: a topic has dots ({@code chat.in}), and Spring MVC's
 * annotated handlers answer a path with an unknown "extension" with {@code Content-Disposition: inline;filename=f.txt}
 * (their reflected-file-download guard), which a JSON API should not send.
 */
@Configuration(proxyBeanMethods = false)
class SampleApi {

    /** Topics the page may publish to: the guests' inputs, nothing else. */
    static final Set<String> INPUT_TOPICS = Set.of("chat.in", "users.requests", "echo.in", "shout.in");
    private static final int MAX_BODY = 512;

    @Bean
    RouterFunction<ServerResponse> sampleRoutes(WasiPublisher publisher, RosterListener roster, ChatSwapDemo swapDemo) {
        return route()
                .POST("/api/publish/{topic}", request -> publish(publisher, request))
                .GET("/api/users", request -> ServerResponse.ok().body(Map.of("roster", roster.last())))
                .POST("/api/demo/swap", request -> swap(swapDemo))
                .build();
    }

    private static ServerResponse publish(WasiPublisher publisher, ServerRequest request) throws Exception {
        String topic = request.pathVariable("topic");
        if (!INPUT_TOPICS.contains(topic)) {
            return ServerResponse.badRequest().body(Map.of("error", "unknown topic '" + topic + "'", "topics", INPUT_TOPICS));
        }
        String text = request.body(String.class).strip();
        if (text.isEmpty() || text.length() > MAX_BODY) {
            return ServerResponse.badRequest().body(Map.of("error", "send 1 to " + MAX_BODY + " characters"));
        }
        publisher.publish(topic, text);
        return ServerResponse.accepted().body(Map.of("topic", topic, "published", text));
    }

    private static ServerResponse swap(ChatSwapDemo swapDemo) {
        try {
            ChatSwapDemo.Swap swap = swapDemo.swap();
            return ServerResponse.accepted().body(Map.of("from", swap.from(), "to", swap.to()));
        } catch (IllegalStateException e) {
            return ServerResponse.status(409).body(Map.of("error", e.getMessage()));
        }
    }
}
