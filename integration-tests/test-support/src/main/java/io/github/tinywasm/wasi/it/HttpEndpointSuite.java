package io.github.tinywasm.wasi.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The behaviour of {@code /m/{name}} that every web stack must show, against a real application on a real port with
 * real guests (C from guests/build.sh, WAT) and a real HTTP client: tinywasm/wasi's compatible mode and the extended
 * ABI, every status the host answers, a mebibyte of binary both ways, the middleware pipeline, a swap under load, a
 * looping handler, a pool answering in parallel, a module without memory. Subclasses name the application.
 *
 * <p>One application serves the whole class (each test uses modules of its own): the original's logger is a middleware
 * of every module ({@code rule.txt}: {@code *}), the auth middleware guards {@code echo} ({@code rule.txt}:
 * {@code echo}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class HttpEndpointSuite {

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAILBOX = 16;

    private Path modules;
    private Path gate;
    private ConfigurableApplicationContext context;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** The application under test. */
    protected abstract Class<?> application();

    @BeforeAll
    void start() throws IOException {
        modules = Files.createTempDirectory("http-modules");
        gate = Files.createTempDirectory("http-gate");
        deploy("users", "http_users");
        deploy("swap", "http_users");
        deploy("pooledswap", "http_users");
        deploy("echo", "http_echo");
        deploy("loop", "http_loop");
        deploy("gate", "http_gate");
        deploy("sink", "sink");
        deploy("logger", "http_logger");
        rule("logger", "*\n");
        deploy("auth", "http_auth");
        rule("auth", "echo");
        Files.write(modules.resolve("boom.wasm"), Guests.wat("""
                (module (memory (export "memory") 1)
                  (func (export "handle") (param i32 i32) (result i32) unreachable))
                """));
        // a reply of 1 MiB + 1 byte: over the maximum response size
        Files.write(modules.resolve("big.wasm"), Guests.wat("""
                (module
                  (import "env" "http_response_write" (func $write (param i32 i32)))
                  (memory (export "memory") 17)
                  (func (export "handle_http") (result i32) (call $write (i32.const 0) (i32.const 1048577)) (i32.const 1)))
                """));
        // no memory, no malloc: the original calls handle(0, len); this one answers 204 only when so called
        Files.write(modules.resolve("bare.wasm"), Guests.wat("""
                (module
                  (func (export "handle") (param $p i32) (param $l i32) (result i32)
                    (if (i32.or (local.get $p) (i32.ne (local.get $l) (i32.const 12))) (then unreachable))
                    (i32.const 0)))
                """));
        // answers with the status in the query (?s=NNN, three digits) and a body "x": a guest choosing a 1xx or 204
        Files.write(modules.resolve("status.wasm"), Guests.wat("""
                (module
                  (import "env" "http_request_head" (func $head (param i32 i32) (result i32)))
                  (import "env" "http_response_status" (func $status (param i32)))
                  (import "env" "http_response_write" (func $write (param i32 i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 0) "x")
                  (func $digit (param $at i32) (result i32)
                    (i32.sub (i32.load8_u (local.get $at)) (i32.const 48)))
                  (func (export "handle_http") (result i32)
                    (local $n i32)
                    ;; the head starts "GET /m/status?s=NNN ": the digits are at 16, 17, 18
                    (local.set $n (call $head (i32.const 64) (i32.const 256)))
                    (call $status (i32.add (i32.add
                        (i32.mul (call $digit (i32.const 80)) (i32.const 100))
                        (i32.mul (call $digit (i32.const 81)) (i32.const 10)))
                        (call $digit (i32.const 82))))
                    (call $write (i32.const 0) (i32.const 1))
                    (i32.const 1)))
                """));
        // sets a header whose value holds a control character (?c=NN, two hex digits, at the value's second byte)
        Files.write(modules.resolve("ctl.wasm"), Guests.wat("""
                (module
                  (import "env" "http_request_head" (func $head (param i32 i32) (result i32)))
                  (import "env" "http_response_header" (func $header (param i32 i32 i32 i32)))
                  (import "env" "http_response_write" (func $write (param i32 i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 0) "X-Ctla?b")
                  (func $hex (param $at i32) (result i32)
                    (local $c i32)
                    (local.set $c (i32.load8_u (local.get $at)))
                    (if (result i32) (i32.ge_u (local.get $c) (i32.const 97))
                      (then (i32.sub (local.get $c) (i32.const 87)))
                      (else (i32.sub (local.get $c) (i32.const 48)))))
                  (func (export "handle_http") (result i32)
                    ;; the head starts "GET /m/ctl?c=NN ": the digits are at 13 and 14
                    (drop (call $head (i32.const 64) (i32.const 256)))
                    (i32.store8 (i32.const 6) (i32.add (i32.mul (call $hex (i32.const 77)) (i32.const 16))
                        (call $hex (i32.const 78))))
                    (call $header (i32.const 0) (i32.const 5) (i32.const 5) (i32.const 3))
                    (call $write (i32.const 0) (i32.const 1))
                    (i32.const 1)))
                """));
        context = new SpringApplicationBuilder(application())
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "tinywasm.wasi.call-timeout=" + CALL_TIMEOUT.toMillis() + "ms",
                        "tinywasm.wasi.mailbox.capacity=" + MAILBOX,
                        "tinywasm.wasi.drain-timeout=5s",
                        "tinywasm.wasi.preopened-dirs./gate=" + gate,
                        "tinywasm.wasi.modules.gate.http.pool-size=2",
                        "tinywasm.wasi.modules.pooledswap.http.pool-size=2")
                .run();
    }

    @AfterAll
    void stop() {
        if (context != null) {
            context.close();
        }
    }

    private void deploy(String module, String guest) throws IOException {
        Path tmp = modules.resolve("." + module + ".wasm.tmp");
        Files.write(tmp, Guests.built(guest));
        Files.move(tmp, modules.resolve(module + ".wasm"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void rule(String module, String rule) throws IOException {
        Files.createDirectories(modules.resolve(module));
        Files.writeString(modules.resolve(module).resolve("rule.txt"), rule);
    }

    protected ConfigurableApplicationContext context() {
        return context;
    }

    protected WasiServer server() {
        return context.getBean(WasiServer.class);
    }

    private ModuleInfo info(String module) {
        return server().module(module).orElseThrow();
    }

    private URI uri(String pathAndQuery) {
        int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        return URI.create("http://localhost:" + port + pathAndQuery);
    }

    private HttpResponse<byte[]> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> get(String pathAndQuery) throws Exception {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)));
    }

    private static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    // ---- the original's compatible mode --------------------------------------------------------------------

    @Test
    void compatibleModeAnswersTheNulTerminatedReplyOfHandle() throws Exception {
        HttpResponse<byte[]> r = get("/m/users/42?full=1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(text(r)).isEqualTo("users: GET /m/users/42"); // the full decoded path, no query
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain;charset=UTF-8");
        HttpResponse<byte[]> post = send(HttpRequest.newBuilder(uri("/m/users/caf%C3%A9%20au%20lait"))
                .POST(HttpRequest.BodyPublishers.ofString("a body it never sees")));
        assertThat(text(post)).isEqualTo("users: POST /m/users/caf\u00e9 au lait");
        assertThat(get("/m/users/empty").statusCode()).as("handle returned 0").isEqualTo(204);
        assertThat(get("/m/sink").statusCode()).as("no handle export").isEqualTo(204);
    }

    @Test
    void theHostAnswers400WithoutAModuleName() throws Exception {
        for (String path : List.of("/m/", "/m", "/m//users")) {
            HttpResponse<byte[]> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(400);
            assertThat(text(r)).isEqualTo("Module name required\n");
        }
    }

    @Test
    void theHostAnswers404ForAnUnknownModuleAndForAMiddlewareNamedAsATarget() throws Exception {
        assertThat(get("/m/nobody/1").statusCode()).isEqualTo(404);
        assertThat(get("/m/logger").statusCode()).isEqualTo(404);
        assertThat(get("/m/auth/x").statusCode()).isEqualTo(404);
    }

    @Test
    void aModuleWithoutMemoryIsCalledWithHandleZeroLenAsInTheOriginal() throws Exception {
        assertThat(get("/m/bare").statusCode()).isEqualTo(204);
        assertThat(info("bare").http().errors()).isZero();
    }

    // ---- the extended ABI ------------------------------------------------------------------------------------

    private HttpRequest.Builder toEcho(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).header("Authorization", "Bearer alice");
    }

    @Test
    void extendedModeSeesTheWholeRequestAndSetsStatusHeadersAndBody() throws Exception {
        HttpResponse<byte[]> r = send(toEcho("/m/echo/x?status=202&q=a%20b").header("Content-Type", "text/csv")
                .PUT(HttpRequest.BodyPublishers.ofString("a,b\n1,2\n")));
        assertThat(r.statusCode()).isEqualTo(202);
        assertThat(text(r)).isEqualTo("a,b\n1,2\n");
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/csv"));
        assertThat(r.headers().firstValue("X-Method")).hasValue("PUT");
        assertThat(r.headers().firstValue("X-Target")).hasValue("/m/echo/x?status=202&q=a%20b");
        assertThat(r.headers().firstValue("X-Body-Length")).hasValue("8");
    }

    @Test
    void aMebibyteOfBinaryGoesBothWaysByteForByte() throws Exception {
        byte[] body = new byte[1 << 20];
        new Random(7).nextBytes(body);
        HttpResponse<byte[]> r = send(toEcho("/m/echo/bin").header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValueAsLong("X-Body-Length")).hasValue(body.length);
        assertThat(r.body()).isEqualTo(body);
        // and once more with no announced length (chunked)
        HttpResponse<byte[]> chunked = send(toEcho("/m/echo/bin").POST(
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
        assertThat(chunked.body()).isEqualTo(body);
    }

    // ---- statuses ------------------------------------------------------------------------------------------

    @Test
    void aBodyOverTheMaximumIs413BeforeTheGuestRunsAnnouncedOrNot() throws Exception {
        long before = info("echo").http().requests();
        int tooLarge = (1 << 20) + 1;
        assertThat(postWholeBodyThenRead("/m/echo", tooLarge, false)).startsWith("HTTP/1.1 413");
        assertThat(postWholeBodyThenRead("/m/echo", tooLarge, true)).startsWith("HTTP/1.1 413");
        assertThat(info("echo").http().requests()).as("the guest saw neither").isEqualTo(before);
    }

    /**
     * A client that writes its whole body before it reads the answer, over a connection with small socket buffers: the
     * server must read 1 MiB past the maximum to let it finish, then answer 413, not leave it blocked in its write.
     */
    @Test
    void aClientThatSendsItsWholeOversizeBodyBeforeReadingGets413() throws Exception {
        assertThat(postWholeBodyThenRead("/m/echo", 2 << 20, false)).startsWith("HTTP/1.1 413");
    }

    /**
     * POSTs {@code size} zero bytes (with Content-Length, or chunked) from a raw socket with 8 KiB buffers, writing the
     * whole body before reading, and returns the status line. (Not the JDK's HttpClient: how it reads an answer that
     * comes before its body is sent is its own business; here the order is fixed.)
     */
    private String postWholeBodyThenRead(String path, int size, boolean chunked) throws Exception {
        int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.setSendBufferSize(8 * 1024);
            socket.setReceiveBufferSize(8 * 1024);
            socket.connect(new java.net.InetSocketAddress("localhost", port));
            socket.setSoTimeout(30_000);
            CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                try {
                    java.io.OutputStream out = socket.getOutputStream();
                    out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer alice\r\n"
                            + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + size) + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[16 * 1024];
                    for (int sent = 0; sent < size; sent += chunk.length) {
                        int n = Math.min(chunk.length, size - sent);
                        if (chunked) {
                            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write(chunk, 0, n);
                        if (chunked) {
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                    if (chunked) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // the whole body goes out (the server reads it) well before any timeout of the server or the client
            written.get(30, TimeUnit.SECONDS);
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            return String.valueOf(in.readLine());
        }
    }

    @Test
    void aTrapIs500NamingTheModuleAndTheTrap() throws Exception {
        HttpResponse<byte[]> r = get("/m/boom");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(text(r)).startsWith("module 'boom': handle trapped: ");
        assertThat(info("boom").counters().traps()).isPositive();
    }

    @Test
    void aResponseOverTheMaximumIs500AndCounted() throws Exception {
        long before = info("big").http().errors();
        HttpResponse<byte[]> r = get("/m/big");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(text(r)).contains("module 'big'").contains("more than the maximum response size of 1048576 bytes");
        assertThat(info("big").http().errors()).isEqualTo(before + 1);
    }

    /** Sends a request that spins in module "loop" until the call timeout, and returns once it spins. */
    private CompletableFuture<HttpResponse<byte[]>> spin() {
        long before = info("loop").http().requests();
        CompletableFuture<HttpResponse<byte[]>> looping = client.sendAsync(
                HttpRequest.newBuilder(uri("/m/loop/spin")).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> info("loop").http().requests() > before && info("loop").mailboxDepth() == 0);
        return looping;
    }

    @Test
    void aLoopingHandlerIs504AndTheModuleAndTheOthersKeepServing() throws Exception {
        CompletableFuture<HttpResponse<byte[]>> looping = spin();
        assertThat(text(get("/m/users/while-it-loops"))).isEqualTo("users: GET /m/users/while-it-loops");
        HttpResponse<byte[]> r = looping.get(60, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(text(r)).contains("module 'loop'").contains("interrupted after exceeding the call timeout");
        assertThat(text(get("/m/loop/ok"))).isEqualTo("ok");
    }

    @Test
    void aFullMailboxIs503WithRetryAfter() throws Exception {
        long rejected = info("loop").http().rejected();
        // one request spins for the call timeout; the mailbox holds 16 more; the rest are refused at once
        List<CompletableFuture<HttpResponse<byte[]>>> sent = new ArrayList<>();
        sent.add(spin());
        for (int i = 0; i < MAILBOX + 8; i++) {
            sent.add(client.sendAsync(HttpRequest.newBuilder(uri("/m/loop/ok")).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        int refused = 0;
        int refusedByLoop = 0;
        for (CompletableFuture<HttpResponse<byte[]>> f : sent) {
            HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isIn(200, 503, 504);
            if (r.statusCode() == 503) {
                refused++;
                assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
                // (the logger, a middleware of every module, could be the full one on a very busy machine)
                assertThat(text(r)).contains("is busy: its mailbox is full");
                refusedByLoop += text(r).contains("module 'loop'") ? 1 : 0;
            }
        }
        assertThat(refused).isPositive();
        assertThat(info("loop").http().rejected()).isEqualTo(rejected + refusedByLoop);
    }

    // ---- the middleware pipeline -------------------------------------------------------------------------------

    @Test
    void theAuthMiddlewareAnswers401OrPassesTheUserOnAndTheLoggerSeesEveryRequest() throws Exception {
        long logged = info("logger").http().requests();
        HttpResponse<byte[]> denied = get("/m/echo/private");
        assertThat(denied.statusCode()).isEqualTo(401);
        assertThat(denied.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        HttpResponse<byte[]> allowed = send(HttpRequest.newBuilder(uri("/m/echo/private"))
                .header("Authorization", "Bearer alice").header("X-User", "mallory"));
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.headers().firstValue("X-User")).as("set by auth for the module after it").hasValue("alice");
        assertThat(text(get("/m/users/1"))).isEqualTo("users: GET /m/users/1"); // auth's rule is "echo" only
        // "auth" runs before "logger" (module name order): the 401 ended the pipeline before the logger
        assertThat(info("logger").http().requests()).isEqualTo(logged + 2);
        assertThat(info("logger").http().middleware()).isEqualTo("*");
        assertThat(info("auth").http().middleware()).isEqualTo("echo");
    }

    // ---- what a guest may answer -----------------------------------------------------------------------------

    @Test
    void aGuestAnsweringAnInterimStatusGetsA500InsteadOfHangingTheClient() throws Exception {
        for (String status : List.of("100", "101", "103")) {
            HttpResponse<byte[]> r = get("/m/status?s=" + status);
            assertThat(r.statusCode()).as(status).isEqualTo(500);
            assertThat(text(r)).as(status).contains("module 'status'").contains(status);
        }
        assertThat(get("/m/status?s=201").statusCode()).isEqualTo(201);
    }

    @Test
    void aHeaderValueWithAControlCharacterIsAnErrorOfTheModuleNotABrokenResponse() throws Exception {
        for (String ctl : List.of("01", "0b", "0c", "1f", "7f")) {
            HttpResponse<byte[]> r = get("/m/ctl?c=" + ctl);
            assertThat(r.statusCode()).as(ctl).isEqualTo(500);
            assertThat(text(r)).as(ctl).contains("module 'ctl'").contains("control character");
        }
        HttpResponse<byte[]> tab = get("/m/ctl?c=09"); // a tab is allowed in a value
        assertThat(tab.statusCode()).isEqualTo(200);
        // (a web stack or the client may turn the tab into a space)
        assertThat(tab.headers().firstValue("X-Ctl")).hasValueSatisfying(v -> assertThat(v).matches("a[ \t]b"));
    }

    @Test
    void aBodyWithA204IsNotSentAndTheConnectionStaysUsable() throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> r = get("/m/status?s=204");
            assertThat(r.statusCode()).isEqualTo(204);
            assertThat(r.body()).isEmpty();
            HttpResponse<byte[]> next = get("/m/users/after-204");
            assertThat(text(next)).isEqualTo("users: GET /m/users/after-204");
        }
    }

    @Test
    void aHeadRequestGetsTheHeadersAndNoBody() throws Exception {
        HttpResponse<byte[]> r = send(HttpRequest.newBuilder(uri("/m/users/head"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
        assertThat(text(get("/m/users/after-head"))).isEqualTo("users: GET /m/users/after-head");
    }

    @Test
    void aBodyOfExactlyTheMaximumReachesTheGuestAnnouncedOrNot() throws Exception {
        byte[] body = new byte[1 << 20];
        new Random(3).nextBytes(body);
        HttpResponse<byte[]> announced = send(toEcho("/m/echo/max").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        assertThat(announced.statusCode()).isEqualTo(200);
        assertThat(announced.body()).isEqualTo(body);
        HttpResponse<byte[]> chunked = send(toEcho("/m/echo/max").POST(
                HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))));
        assertThat(chunked.statusCode()).isEqualTo(200);
        assertThat(chunked.body()).isEqualTo(body);
    }

    /** Sends {@code GET target} as written (no client-side checks) and returns the status line and the body. */
    private String raw(String target) throws IOException {
        int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
        try (java.net.Socket socket = new java.net.Socket("localhost", port)) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int eol = all.indexOf("\r\n");
            int body = all.indexOf("\r\n\r\n");
            return (eol < 0 ? all : all.substring(0, eol)) + (body < 0 ? "" : "\n" + all.substring(body + 4));
        }
    }

    @Test
    void aMalformedOrDotSegmentPathIsABadRequestOrNamesNoOtherModule() throws Exception {
        assertThat(raw("/m/users/%ZZ")).as("malformed escape").startsWith("HTTP/1.1 400");
        assertThat(raw("/m/%ZZ/x")).as("malformed escape in the name").startsWith("HTTP/1.1 400");
        // not UTF-8: decoded with replacement characters, or refused; never a server error
        assertThat(raw("/m/users/%FF%FE")).matches("(?s)HTTP/1.1 (200|400).*");
        // a dot segment never reaches a module the normalized path does not name
        for (String target : List.of("/m/users/../echo", "/m/users/%2e%2e/echo", "/m/users/%2E%2E/%2E%2E/m/echo")) {
            // users answers, or echo's guard (auth) refuses; echo itself never answers unauthenticated
            assertThat(raw(target)).as(target).matches("(?s)HTTP/1.1 (400 .*|401 .*|200 .*\nusers: GET .*)");
        }
    }

    // ---- swaps, pools ----------------------------------------------------------------------------------------

    @Test
    void aSwapWhileEightClientsSendContinuouslyAnswersEveryRequestOnce() throws Exception {
        swapUnderLoad("swap");
    }

    @Test
    void aSwapOfAPooledModuleWhileEightClientsSendContinuouslyAnswersEveryRequestOnce() throws Exception {
        swapUnderLoad("pooledswap");
        assertThat(info("pooledswap").http().poolSize()).isEqualTo(2);
    }

    private void swapUnderLoad(String module) throws Exception {
        int clients = 8;
        long handledBefore = info(module).http().requests();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<List<String>>> runs = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                int client = c;
                runs.add(pool.submit(() -> {
                    List<String> answers = new ArrayList<>();
                    for (int i = 0; !stop.get() || i < 10; i++) {
                        HttpResponse<byte[]> r = get("/m/" + module + "/" + client + "-" + i);
                        answers.add(r.statusCode() + " " + text(r));
                    }
                    return answers;
                }));
            }
            for (int swap = 0; swap < 4; swap++) {
                deploy(module, swap % 2 == 0 ? "http_users-v2" : "http_users");
                server().reload(module);
            }
            stop.set(true);
            long sent = 0;
            for (int c = 0; c < clients; c++) {
                List<String> answers = runs.get(c).get(120, TimeUnit.SECONDS);
                for (int i = 0; i < answers.size(); i++) {
                    assertThat(answers.get(i)).matches("200 users( v2)?: GET /m/" + module + "/" + c + "-" + i);
                }
                sent += answers.size();
            }
            assertThat(info(module).counters().swaps()).isGreaterThanOrEqualTo(4);
            assertThat(info(module).http().requests() - handledBefore).as("each handled once").isEqualTo(sent);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPooledModuleAnswersInParallel() throws Exception {
        // each request waits inside the guest until two are inside at once: only two instances can do that before the
        // call timeout (a single instance answers one at a time: the first would end with 504)
        List<CompletableFuture<HttpResponse<byte[]>>> sent = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            sent.add(client.sendAsync(HttpRequest.newBuilder(uri("/m/gate?id=p" + i + "&n=2")).timeout(Duration.ofSeconds(60))
                    .build(), HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (CompletableFuture<HttpResponse<byte[]>> f : sent) {
            HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(text(r)).isEqualTo("2 inside");
        }
        assertThat(info("gate").http().poolSize()).isEqualTo(2);
    }
}
