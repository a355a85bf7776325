package io.github.tinywasm.wasi.http;

import static io.github.tinywasm.wasi.http.HttpGuests.get;
import static io.github.tinywasm.wasi.http.HttpGuests.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.LogCapture;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP to guests in the engine, with real guests (C from guests/build.sh, WAT compiled here): the original's compatible
 * mode byte for byte, the extended ABI, the middleware pipeline, every status the host answers, and how requests share a
 * module's mailbox with the bus's messages. The web stacks' adapters are tested against real servers in the
 * auto-configuration and integration tests.
 */
class GuestHttpTest {

    @TempDir
    Path modules;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private WasiServer server(HttpConfig http) {
        return server(WasiConfig.builder().modulesDir(modules).watch(false).http(http));
    }

    private WasiServer server(WasiConfig.Builder config) {
        server = new WasiServer(config.build());
        return server;
    }

    private GuestHttpResponse send(String module, GuestHttpRequest request) throws Exception {
        return server.http().dispatch(module, request).get(60, TimeUnit.SECONDS);
    }

    private GuestHttpResponse send(String target) throws Exception {
        return send(GuestHttpDispatcher.moduleName(target.replaceAll("\\?.*", ""), "/m"), get(target));
    }

    private ModuleInfo info(String module) {
        return server.module(module).orElseThrow();
    }

    // ---- compatible mode: the original's contract ------------------------------------------------------------

    @Test
    void compatibleModeGetsMethodAndFullDecodedPathAndAnswersTheNulTerminatedReply() throws Exception {
        server(HttpConfig.DEFAULTS).load("users", Guests.built("http_users"));
        GuestHttpResponse r = send("/m/users/42?full=1");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyAsString()).isEqualTo("users: GET /m/users/42"); // no query, no body, as the original
        assertThat(r.header("Content-Type")).isEqualTo("text/plain;charset=UTF-8");
        assertThat(r.module()).isEqualTo("users");

        GuestHttpResponse post = send("users", request("POST", "/m/users/caf\u00e9", List.of(), "ignored".getBytes()));
        assertThat(post.bodyAsString()).isEqualTo("users: POST /m/users/caf\u00e9");
        ModuleInfo users = info("users");
        assertThat(users.http().mode()).isEqualTo(HttpMode.COMPATIBLE);
        assertThat(users.http().requests()).isEqualTo(2);
        assertThat(users.http().middleware()).isNull();
    }

    @Test
    void aZeroReplyOrNoHandleExportIs204() throws Exception {
        server(HttpConfig.DEFAULTS).load("users", Guests.built("http_users"));
        server.load("sink", Guests.built("sink")); // a bus guest: no handle export
        assertThat(send("/m/users/empty").status()).isEqualTo(204);
        GuestHttpResponse none = send("/m/sink");
        assertThat(none.status()).isEqualTo(204);
        assertThat(none.bodySize()).isZero();
        assertThat(info("sink").http().mode()).isEqualTo(HttpMode.NONE);
    }

    @Test
    void theHostAnswers400WithoutAName404ForAnUnknownModule() throws Exception {
        server(HttpConfig.DEFAULTS);
        GuestHttpResponse noName = send("/m/");
        assertThat(noName.status()).isEqualTo(400);
        assertThat(noName.bodyAsString()).isEqualTo("Module name required\n");
        assertThat(noName.header("X-Content-Type-Options")).isEqualTo("nosniff");
        GuestHttpResponse unknown = send("/m/nobody/x");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.module()).as("not a loaded module: no metrics tag of its own").isNull();
    }

    @Test
    void theReplyIsTypedHtmlOrJsonWhenItStartsLikeThem() throws Exception {
        server(HttpConfig.DEFAULTS);
        server.load("json", HttpGuests.replying("  {\"a\":1}"));
        server.load("html", HttpGuests.replying("<!DOCTYPE html><p>hi</p>"));
        server.load("text", HttpGuests.replying("<notatag>"));
        assertThat(send("/m/json").header("Content-Type")).isEqualTo("application/json");
        assertThat(send("/m/json").bodyAsString()).isEqualTo("  {\"a\":1}");
        assertThat(send("/m/html").header("Content-Type")).isEqualTo("text/html;charset=UTF-8");
        assertThat(send("/m/text").header("Content-Type")).isEqualTo("text/plain;charset=UTF-8");
    }

    @Test
    void theReplyStopsAt64KiBAndAtTheEndOfMemory() throws Exception {
        server(HttpConfig.DEFAULTS);
        // 100 000 non-NUL bytes from 4096, then NUL: the reply is the first 65 536 of them
        server.load("long", HttpGuests.handling("""
                  (memory.fill (i32.const 4096) (i32.const 65) (i32.const 100000))
                  (i32.const 4096)"""));
        // memory is 2 pages; a reply 100 bytes before the end with no NUL stops there
        server.load("edge", HttpGuests.handling("""
                  (memory.fill (i32.const 130972) (i32.const 66) (i32.const 100))
                  (i32.const 130972)"""));
        GuestHttpResponse longReply = send("/m/long");
        assertThat(longReply.bodySize()).isEqualTo(65536);
        GuestHttpResponse edge = send("/m/edge");
        assertThat(edge.bodyAsString()).isEqualTo("B".repeat(100));
    }

    @Test
    void theRequestIsPlacedWithMallocAndFreedAfterTheReplyWasRead() throws Exception {
        server(HttpConfig.DEFAULTS);
        // handle echoes the request bytes it was given (reply = the request buffer, NUL added by the guest), and
        // free records the pointer it got at 8: the host frees the request buffer once the reply is read
        server.load("echo", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
                  (func (export "free") (param i32) (i32.store (i32.const 8) (local.get 0)))
                  (func (export "handle") (param $p i32) (param $l i32) (result i32)
                    (i32.store8 (i32.add (local.get $p) (local.get $l)) (i32.const 0))
                    (local.get $p)))
                """));
        assertThat(send("/m/echo/a%20b").bodyAsString()).isEqualTo("GET\n/m/echo/a%20b\n");
    }

    @Test
    void withoutMallocHandleIsCalledWithPointerZeroAsTheOriginalDoes() throws Exception {
        server(HttpConfig.DEFAULTS);
        // answers "ok" (at 1024) only when called with ptr 0 and the request's length (GET\n/m/nomalloc\n = 16)
        server.load("nomalloc", Guests.wat("""
                (module
                  (memory (export "memory") 1)
                  (data (i32.const 1024) "ok\\00")
                  (func (export "handle") (param $p i32) (param $l i32) (result i32)
                    (if (i32.or (local.get $p) (i32.ne (local.get $l) (i32.const 16))) (then unreachable))
                    (i32.const 1024)))
                """));
        assertThat(send("/m/nomalloc").bodyAsString()).isEqualTo("ok");
    }

    // ---- extended mode -------------------------------------------------------------------------------------

    @Test
    void extendedModeSeesMethodTargetHeadersAndBodyAndSetsStatusHeadersAndBody() throws Exception {
        server(HttpConfig.DEFAULTS).load("echo", Guests.built("http_echo"));
        GuestHttpResponse r = send("echo", request("PUT", "/m/echo/x?status=201&q=a%20b",
                List.of(new Header("Host", "h"), new Header("Content-Type", "text/csv"), new Header("X-User", "bob")),
                "a,b\n1,2\n".getBytes(StandardCharsets.UTF_8)));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.bodyAsString()).isEqualTo("a,b\n1,2\n");
        assertThat(r.header("Content-Type")).isEqualTo("text/csv");
        assertThat(r.header("X-Method")).isEqualTo("PUT");
        assertThat(r.header("X-Target")).isEqualTo("/m/echo/x?status=201&q=a%20b");
        assertThat(r.header("X-User")).isEqualTo("bob");
        assertThat(r.header("X-Body-Length")).isEqualTo("8");
        assertThat(info("echo").http().mode()).isEqualTo(HttpMode.EXTENDED);
    }

    @Test
    void aMebibyteOfBinaryGoesInAndComesBackByteForByte() throws Exception {
        server(HttpConfig.DEFAULTS).load("echo", Guests.built("http_echo"));
        byte[] body = new byte[1 << 20];
        new Random(42).nextBytes(body);
        GuestHttpResponse r = send("echo", request("POST", "/m/echo", List.of(), body));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(r.body()).isEqualTo(body);
    }

    @Test
    void theRequestHeadIsAnHttp11HeadWithTheQuery() throws Exception {
        server(HttpConfig.DEFAULTS);
        // writes the head it reads as its body: first asks the length with cap 0, then reads it
        server.load("head", Guests.wat("(module\n" + HttpGuests.HTTP_IMPORTS + """
                  (memory (export "memory") 1)
                  (func (export "handle_http") (result i32) (local i32)
                    (local.set 0 (call $http_request_head (i32.const 0) (i32.const 0)))
                    (drop (call $http_request_head (i32.const 2048) (local.get 0)))
                    (call $http_response_write (i32.const 2048) (local.get 0))
                    (i32.const 1)))
                """));
        GuestHttpResponse r = send("head", request("GET", "/m/head/a?b=c",
                List.of(new Header("Host", "example"), new Header("Accept", "*/*"), new Header("Accept", "text/plain")), null));
        assertThat(r.bodyAsString()).isEqualTo(
                "GET /m/head/a?b=c HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nAccept: text/plain\r\n\r\n");
    }

    @Test
    void anExtendedTargetThatReturnsZeroIs204() throws Exception {
        server(HttpConfig.DEFAULTS).load("zero", HttpGuests.extended("", "(i32.const 0)"));
        assertThat(send("/m/zero").status()).isEqualTo(204);
    }

    @Test
    void hopByHopAndBadHeadersAndBadStatusesAreErrorsOfTheModule() throws Exception {
        server(HttpConfig.DEFAULTS);
        server.load("hop", HttpGuests.extended("Connectionclose",
                "(call $http_response_header (i32.const 1024) (i32.const 10) (i32.const 1034) (i32.const 5)) (i32.const 1)"));
        server.load("split", HttpGuests.extended("X-Ax\\0d\\0aSet-Cookie: a=b",
                "(call $http_response_header (i32.const 1024) (i32.const 3) (i32.const 1027) (i32.const 18)) (i32.const 1)"));
        server.load("status", HttpGuests.extended("", "(call $http_response_status (i32.const 42)) (i32.const 1)"));
        // an interim status cannot end a request: a client would wait for the final one
        server.load("interim", HttpGuests.extended("", "(call $http_response_status (i32.const 100)) (i32.const 1)"));
        GuestHttpResponse hop = send("/m/hop");
        assertThat(hop.status()).isEqualTo(500);
        assertThat(hop.bodyAsString()).contains("module 'hop'").contains("'Connection' is a hop-by-hop or length field");
        assertThat(send("/m/split").bodyAsString()).contains("module 'split'").contains("contains CR, LF or NUL");
        assertThat(send("/m/status").bodyAsString()).contains("42 is not a final HTTP status");
        GuestHttpResponse interim = send("/m/interim");
        assertThat(interim.status()).isEqualTo(500);
        assertThat(interim.bodyAsString()).contains("module 'interim'").contains("100 is not a final HTTP status");
        assertThat(info("hop").http().errors()).isEqualTo(1);
        assertThat(info("hop").counters().errors()).isEqualTo(1);
        assertThat(info("hop").lastError()).contains("hop-by-hop");
    }

    @Test
    void theHttpImportsOutsideARequestAreAnErrorOfTheModuleNotOfTheHost() throws Exception {
        server(HttpConfig.DEFAULTS);
        server.load("outside", Guests.wat("(module\n" + Guests.IMPORTS + HttpGuests.HTTP_IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param i32 i32) (call $http_response_status (i32.const 200))))
                """));
        server.publish("in", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> info("outside").counters().errors() == 1);
        assertThat(info("outside").lastError()).isEqualTo(
                "module 'outside': http_response_status was called outside an HTTP request (only during handle_http)");
        server.publish("in", "y"); // and it goes on with the next message
        await().atMost(Duration.ofSeconds(10)).until(() -> info("outside").counters().errors() == 2);
    }

    // ---- statuses the host answers ----------------------------------------------------------------------------

    @Test
    void aBodyOverTheMaximumIs413BeforeTheGuestRuns() throws Exception {
        server(HttpConfig.DEFAULTS.withLimits(1000, 1 << 20)).load("echo", Guests.built("http_echo"));
        GuestHttpResponse r = send("echo", request("POST", "/m/echo", List.of(), new byte[1001]));
        assertThat(r.status()).isEqualTo(413);
        assertThat(info("echo").http().requests()).as("the guest never saw it").isZero();
        assertThat(send("echo", request("POST", "/m/echo", List.of(), new byte[1000])).status()).isEqualTo(200);
    }

    @Test
    void aResponseOverTheMaximumIs500AndCounted() throws Exception {
        server(HttpConfig.DEFAULTS.withLimits(1 << 20, 100)).load("echo", Guests.built("http_echo"));
        server.load("long", HttpGuests.replying("x".repeat(101)));
        GuestHttpResponse r = send("echo", request("POST", "/m/echo", List.of(), new byte[101]));
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.bodyAsString()).contains("module 'echo'").contains("more than the maximum response size of 100 bytes");
        assertThat(info("echo").http().errors()).isEqualTo(1);
        assertThat(send("/m/long").status()).isEqualTo(500);
        assertThat(info("long").http().errors()).isEqualTo(1);
        assertThat(send("echo", request("POST", "/m/echo", List.of(), new byte[100])).status()).isEqualTo(200);
    }

    @Test
    void aTrapIs500NamingTheModuleAndTheTrap() throws Exception {
        server(HttpConfig.DEFAULTS).load("boom", HttpGuests.handling("unreachable"));
        GuestHttpResponse r = send("/m/boom");
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.bodyAsString()).startsWith("module 'boom': handle trapped: ");
        assertThat(info("boom").counters().traps()).isEqualTo(1);
        assertThat(info("boom").http().errors()).isEqualTo(1);
    }

    @Test
    void aLoopingHandlerIs504AndTheModuleAndTheOthersKeepServing() throws Exception {
        server(WasiConfig.builder().callTimeout(Duration.ofMillis(500)));
        server.load("loop", Guests.built("http_loop"));
        server.load("users", Guests.built("http_users"));
        CompletableFuture<GuestHttpResponse> looping = server.http().dispatch("loop", get("/m/loop/spin"));
        assertThat(send("/m/users/1").status()).isEqualTo(200); // while it loops
        GuestHttpResponse r = looping.get(60, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.bodyAsString()).contains("module 'loop'").contains("handle_http was interrupted after exceeding the call timeout");
        assertThat(send("/m/loop/ok").bodyAsString()).isEqualTo("ok");
        assertThat(info("loop").counters().timeouts()).isEqualTo(1);
    }

    @Test
    void aFullMailboxIs503WithRetryAfterAtOnce() throws Exception {
        server(WasiConfig.builder().mailboxCapacity(1).callTimeout(Duration.ofSeconds(30)).drainTimeout(Duration.ofSeconds(2)));
        server.load("loop", Guests.built("http_loop"));
        CompletableFuture<GuestHttpResponse> running = server.http().dispatch("loop", get("/m/loop/spin"));
        await().atMost(Duration.ofSeconds(10)).until(() -> info("loop").mailboxDepth() == 0 && info("loop").http().requests() == 1);
        CompletableFuture<GuestHttpResponse> queued = server.http().dispatch("loop", get("/m/loop/ok"));
        GuestHttpResponse refused = send("/m/loop/ok");
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
        assertThat(refused.bodyAsString()).contains("module 'loop' is busy: its mailbox is full");
        assertThat(info("loop").http().rejected()).isEqualTo(1);
        assertThat(queued).isNotDone();
        server.unload("loop"); // interrupts the loop at the drain timeout; what was queued is answered
        assertThat(queued.get(60, TimeUnit.SECONDS).status()).isIn(200, 503);
        assertThat(running.get(60, TimeUnit.SECONDS).status()).isEqualTo(504);
    }

    // ---- the middleware pipeline ------------------------------------------------------------------------------

    private void deploy(String module, String guest, String rule) throws Exception {
        Files.write(modules.resolve(module + ".wasm"), Guests.built(guest));
        if (rule != null) {
            Files.createDirectories(modules.resolve(module));
            Files.writeString(modules.resolve(module).resolve("rule.txt"), rule);
        }
    }

    /** Middlewares run in module name order: "auth", then "logger". */
    @Test
    void theOriginalsLoggerRunsBeforeEveryRequestAndTheAuthMiddlewareAnswersOrPassesAUserOn() throws Exception {
        deploy("logger", "http_logger", "*\n");
        deploy("auth", "http_auth", "echo");
        deploy("echo", "http_echo", null);
        deploy("users", "http_users", null);
        try (LogCapture logs = new LogCapture()) {
            server(HttpConfig.DEFAULTS).start();
            assertThat(info("logger").http().middleware()).isEqualTo("*");
            assertThat(info("logger").http().ruleSource()).endsWith("logger/rule.txt");

            GuestHttpResponse denied = send("/m/echo/secret");
            assertThat(denied.status()).isEqualTo(401);
            assertThat(denied.header("WWW-Authenticate")).isEqualTo("Bearer");
            assertThat(denied.bodyAsString()).isEqualTo("unauthorized\n");
            assertThat(logs.contains("io.github.tinywasm.wasi.guest.logger", "intercepting request GET /m/echo/secret"))
                    .as("auth answered: the pipeline ended before the logger").isFalse();

            GuestHttpResponse allowed = send("echo", request("GET", "/m/echo/secret",
                    List.of(new Header("Authorization", "Bearer alice"), new Header("X-User", "mallory")), null));
            assertThat(allowed.status()).isEqualTo(200);
            assertThat(allowed.header("X-User")).as("set by auth, replacing what the client sent").isEqualTo("alice");
            assertThat(logs.contains("io.github.tinywasm.wasi.guest.logger", "intercepting request GET /m/echo/secret"))
                    .as("then the logger ran").isTrue();

            // auth's rule is "echo": users passes through the logger only
            assertThat(send("/m/users/7").bodyAsString()).isEqualTo("users: GET /m/users/7");
            assertThat(logs.contains("io.github.tinywasm.wasi.guest.logger", "intercepting request GET /m/users/7")).isTrue();
            assertThat(info("logger").http().requests()).isEqualTo(2);
            assertThat(info("auth").http().requests()).isEqualTo(2);
        }
    }

    @Test
    void aMiddlewareIsNeverATarget() throws Exception {
        deploy("logger", "http_logger", "*");
        server(HttpConfig.DEFAULTS).start();
        GuestHttpResponse r = send("/m/logger");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.module()).isEqualTo("logger");
    }

    @Test
    void aFailingMiddlewareIsLoggedAndThePipelineGoesOnAsInTheOriginal() throws Exception {
        server(HttpConfig.DEFAULTS.withMiddleware("broken", "*", 0));
        server.load("broken", HttpGuests.handling("unreachable"));
        server.load("users", Guests.built("http_users"));
        assertThat(send("/m/users/1").bodyAsString()).isEqualTo("users: GET /m/users/1");
        assertThat(info("broken").http().errors()).isEqualTo(1);
        assertThat(info("broken").counters().traps()).isEqualTo(1);
    }

    @Test
    void configuredRulesWinOverRuleTxtAndOrderThePipeline() throws Exception {
        deploy("a", "http_logger", "*");
        deploy("b", "http_auth", "nothing-matches-this");
        deploy("echo", "http_echo", null);
        // b (auth) runs before a when ordered first, and answers 401: a never sees the request
        server(HttpConfig.DEFAULTS.withMiddleware("b", "echo", -1));
        try (LogCapture logs = new LogCapture()) {
            server.start();
            assertThat(info("b").http().middleware()).isEqualTo("echo");
            assertThat(info("b").http().ruleSource()).isEqualTo("tinywasm.wasi.http.middleware.b");
            assertThat(info("b").http().order()).isEqualTo(-1);
            assertThat(send("/m/echo").status()).isEqualTo(401);
            assertThat(info("a").http().requests()).isZero();
            assertThat(logs.contains("io.github.tinywasm.wasi.guest.a", "intercepting")).isFalse();
        }
    }

    @Test
    void ruleTxtIsReadAgainAtEverySwap() throws Exception {
        deploy("auth", "http_auth", "echo");
        deploy("echo", "http_echo", null);
        deploy("users", "http_users", null);
        server(HttpConfig.DEFAULTS).start();
        assertThat(send("/m/echo").status()).isEqualTo(401);
        assertThat(send("/m/users").status()).isEqualTo(200);

        Files.writeString(modules.resolve("auth/rule.txt"), "-echo");
        server.reload("auth");
        assertThat(info("auth").http().middleware()).isEqualTo("-echo");
        assertThat(send("/m/echo").status()).isEqualTo(200);
        assertThat(send("/m/users").status()).isEqualTo(401);

        Files.delete(modules.resolve("auth/rule.txt"));
        server.reload("auth");
        assertThat(info("auth").http().middleware()).as("no rule: a target again").isNull();
        assertThat(send("/m/users").status()).isEqualTo(200);
        assertThat(send("/m/auth").status()).isEqualTo(401); // as a target, it answers itself
    }

    // ---- the mailbox: one instance, one order, swaps -------------------------------------------------------------

    @Test
    void requestsAndBusMessagesReachTheSameInstanceInOneOrder() throws Exception {
        server(HttpConfig.DEFAULTS);
        // on_message counts in a global; handle replies the count as one letter: 'A' + count
        server.load("count", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (global $n (mut i32) (i32.const 0))
                  (data (i32.const 16) "in")
                  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))
                  (func (export "on_message") (param i32 i32) (global.set $n (i32.add (global.get $n) (i32.const 1))))
                  (func (export "handle") (param i32 i32) (result i32)
                    (i32.store8 (i32.const 1024) (i32.add (i32.const 65) (global.get $n)))
                    (i32.store8 (i32.const 1025) (i32.const 0))
                    (i32.const 1024)))
                """));
        for (int i = 0; i < 5; i++) {
            server.publish("in", "x");
        }
        // queued behind the five messages in the same mailbox: it sees all of them
        assertThat(send("/m/count").bodyAsString()).isEqualTo("F");
    }

    @Test
    void requestsQueuedDuringASwapGoToTheNewVersion() throws Exception {
        server(WasiConfig.builder().drainTimeout(Duration.ofSeconds(20)));
        // the old version's drain() tells it started (the mailbox is paused by then), then asks for 200 ms more until
        // it has been asked 5 times: the swap stays paused meanwhile
        byte[] slowDrain = Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (global $asked (mut i32) (i32.const 0))
                  (data (i32.const 16) "draining")
                  (data (i32.const 1024) "old\\00")
                  (func (export "handle") (param i32 i32) (result i32) (i32.const 1024))
                  (func (export "drain") (result i32)
                    (if (i32.eqz (global.get $asked))
                      (then (call $publish (i32.const 16) (i32.const 8) (i32.const 16) (i32.const 8))))
                    (global.set $asked (i32.add (global.get $asked) (i32.const 1)))
                    (if (result i32) (i32.lt_u (global.get $asked) (i32.const 5)) (then (i32.const 200)) (else (i32.const 0)))))
                """);
        server.load("users", slowDrain);
        assertThat(send("/m/users").bodyAsString()).isEqualTo("old");
        java.util.concurrent.CountDownLatch draining = new java.util.concurrent.CountDownLatch(1);
        server.subscribe("draining", m -> draining.countDown());
        CompletableFuture<io.github.tinywasm.wasi.ModuleInfo> swap = CompletableFuture.supplyAsync(
                () -> server.load("users", Guests.built("http_users-v2")));
        assertThat(draining.await(30, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<GuestHttpResponse>> queued = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            queued.add(server.http().dispatch("users", get("/m/users/" + i)));
        }
        swap.get(60, TimeUnit.SECONDS);
        for (int i = 0; i < 10; i++) {
            assertThat(queued.get(i).get(60, TimeUnit.SECONDS).bodyAsString()).isEqualTo("users v2: GET /m/users/" + i);
        }
    }

    @Test
    void unloadingAnswersWhatWasQueuedAndThenTheModuleIsGone() throws Exception {
        server(HttpConfig.DEFAULTS).load("users", Guests.built("http_users"));
        List<CompletableFuture<GuestHttpResponse>> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            sent.add(server.http().dispatch("users", get("/m/users/" + i)));
        }
        server.unload("users");
        for (CompletableFuture<GuestHttpResponse> f : sent) {
            assertThat(f.get(60, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        assertThat(send("/m/users").status()).isEqualTo(404);
    }

    // ---- modules without memory (issue 14) -----------------------------------------------------------------

    @Test
    void aModuleWithoutMemoryGetsHandleZeroLenAsTheOriginalAndFailsClearlyInExtendedMode() throws Exception {
        server(HttpConfig.DEFAULTS);
        // no memory, no malloc: handle(0, len) is called; it answers 0 (204) only when given exactly that
        server.load("bare", Guests.wat("""
                (module
                  (func (export "handle") (param $p i32) (param $l i32) (result i32)
                    (if (i32.or (local.get $p) (i32.ne (local.get $l) (i32.const 12))) (then unreachable))
                    (i32.const 0)))
                """));
        assertThat(send("/m/bare").status()).isEqualTo(204);
        assertThat(info("bare").memoryBytes()).isNull();

        server.load("barex", Guests.wat("(module\n" + HttpGuests.HTTP_IMPORTS + """
                  (func (export "handle_http") (result i32)
                    (drop (call $http_request_head (i32.const 0) (i32.const 4096)))
                    (i32.const 1)))
                """));
        GuestHttpResponse r = send("/m/barex");
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.bodyAsString()).contains("module 'barex': http_request_head: the module has no memory to write the buffer to");
        assertThat(info("barex").lastError()).contains("no memory");

        // a status needs no memory
        server.load("barestatus", Guests.wat("(module\n" + HttpGuests.HTTP_IMPORTS + """
                  (func (export "handle_http") (result i32) (call $http_response_status (i32.const 418)) (i32.const 1)))
                """));
        assertThat(send("/m/barestatus").status()).isEqualTo(418);
    }

    // ---- pools ------------------------------------------------------------------------------------------------

    @Test
    void aPooledModuleAnswersInParallel() throws Exception {
        Path gate = Files.createDirectory(modules.resolve("gate-marks"));
        // three instances spinning at once need three worker threads: parallelism is bounded by worker-threads too
        server(WasiConfig.builder().directory("/gate", gate).callTimeout(Duration.ofSeconds(60)).workerThreads(3)
                .http(HttpConfig.DEFAULTS.withPoolSize("gate", 3)));
        server.load("gate", Guests.built("http_gate"));
        assertThat(info("gate").http().poolSize()).isEqualTo(3);
        // each request waits until three are inside the module at once: only three instances can do that
        List<CompletableFuture<GuestHttpResponse>> inside = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            inside.add(server.http().dispatch("gate", get("/m/gate?id=r" + i + "&n=3")));
        }
        for (CompletableFuture<GuestHttpResponse> f : inside) {
            GuestHttpResponse r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyAsString()).isEqualTo("3 inside");
        }
    }

    @Test
    void theGateCannotOpenWithoutAPool() throws Exception {
        // the control of the test above: one instance serves one request at a time, so two never meet in the gate
        Path gate = Files.createDirectory(modules.resolve("gate-marks"));
        server(WasiConfig.builder().directory("/gate", gate).callTimeout(Duration.ofSeconds(1)));
        server.load("gate", Guests.built("http_gate"));
        CompletableFuture<GuestHttpResponse> first = server.http().dispatch("gate", get("/m/gate?id=a&n=2"));
        CompletableFuture<GuestHttpResponse> second = server.http().dispatch("gate", get("/m/gate?id=b&n=2"));
        assertThat(first.get(60, TimeUnit.SECONDS).status()).isEqualTo(504);
        // by the time the second runs, the first left its mark: it sees two and passes
        assertThat(second.get(60, TimeUnit.SECONDS).bodyAsString()).isEqualTo("2 inside");
    }

    @Test
    void aPoolIsReplacedTogetherOnASwapAndClosedWithTheModule() throws Exception {
        server(HttpConfig.DEFAULTS.withPoolSize("users", 4)).load("users", Guests.built("http_users"));
        List<CompletableFuture<GuestHttpResponse>> before = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            before.add(server.http().dispatch("users", get("/m/users/" + i)));
        }
        for (CompletableFuture<GuestHttpResponse> f : before) {
            assertThat(f.get(60, TimeUnit.SECONDS).bodyAsString()).startsWith("users: ");
        }
        server.load("users", Guests.built("http_users-v2"));
        List<CompletableFuture<GuestHttpResponse>> after = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            after.add(server.http().dispatch("users", get("/m/users/" + i)));
        }
        for (CompletableFuture<GuestHttpResponse> f : after) {
            assertThat(f.get(60, TimeUnit.SECONDS).bodyAsString()).as("every instance is the new version").startsWith("users v2: ");
        }
        server.unload("users");
        assertThat(send("/m/users").status()).isEqualTo(404);
    }

    @Test
    void aSwapUnderConcurrentRequestsAnswersEachOnceByTheOldOrTheNewVersion() throws Exception {
        server(HttpConfig.DEFAULTS.withPoolSize("users", 2)).load("users", Guests.built("http_users"));
        int clients = 8;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<CompletableFuture<List<String>>> runs = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            for (int c = 0; c < clients; c++) {
                int client = c;
                runs.add(CompletableFuture.supplyAsync(() -> {
                    List<String> bodies = new ArrayList<>();
                    for (int i = 0; !stop.get() || i < 20; i++) {
                        try {
                            GuestHttpResponse r = send("users", get("/m/users/" + client + "-" + i));
                            assertThat(r.status()).isEqualTo(200);
                            bodies.add(r.bodyAsString());
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    return bodies;
                }, pool));
            }
            for (int swap = 0; swap < 4; swap++) {
                server.load("users", Guests.built(swap % 2 == 0 ? "http_users-v2" : "http_users"));
            }
            stop.set(true);
            for (int c = 0; c < clients; c++) {
                List<String> bodies = runs.get(c).get(120, TimeUnit.SECONDS);
                for (int i = 0; i < bodies.size(); i++) {
                    assertThat(bodies.get(i)).matches("users( v2)?: GET /m/users/" + c + "-" + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(info("users").counters().swaps()).isEqualTo(4);
        assertThat(info("users").http().errors()).isZero();
    }

    @Test
    void aLoadFailingForTheHttpExportsTypeNamesIt() {
        server(HttpConfig.DEFAULTS);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.load("bad", Guests.wat("""
                (module (func (export "handle") (param i32) (result i32) (i32.const 0)))
                """))).isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("exports handle with type");
    }
}
