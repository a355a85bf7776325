package io.github.tinywasm.wasi.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * The HTTP benchmark's framework floor: a plain Spring MVC controller answering {@code GET /plain/users/{id}} with the
 * bytes the guest {@code http_users} answers to {@code GET /m/users/{id}}, typed the same; and
 * {@code GET /plain-async/users/{id}}, the same bytes from a {@link CompletableFuture} completed on another thread: the
 * cost of Spring MVC's asynchronous round trip (start, hand-off, second dispatch) alone, which {@code /m} pays too.
 */
@RestController
public class PlainController {

    private static final MediaType TEXT = MediaType.parseMediaType("text/plain;charset=UTF-8");
    private static final Executor OTHER_THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "plain-async");
        t.setDaemon(true);
        return t;
    });

    @GetMapping("/plain/users/{id}")
    ResponseEntity<byte[]> user(@PathVariable String id) {
        return ResponseEntity.ok().contentType(TEXT)
                .body(("users: GET /m/users/" + id).getBytes(StandardCharsets.UTF_8));
    }

    @GetMapping("/plain-async/users/{id}")
    CompletableFuture<ResponseEntity<byte[]>> userLater(@PathVariable String id) {
        return CompletableFuture.supplyAsync(() -> user(id), OTHER_THREAD);
    }
}
