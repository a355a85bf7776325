package io.github.tinywasm.wasi.http;

import static io.github.tinywasm.wasi.http.HttpGuests.get;
import static io.github.tinywasm.wasi.http.HttpGuests.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.tinywasm.wasi.Guests;
import io.github.tinywasm.wasi.LogCapture;
import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.policy.Capabilities;
import io.github.tinywasm.wasi.policy.HttpAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP capability of a module ({@code modules.<name>.http.paths} and {@code .enabled}) in the dispatcher, with real
 * guests: the original's {@code http_users} as target, {@code http_logger} and {@code http_auth} as middlewares.
 */
class HttpCapabilitiesTest {

    private static final String DISPATCHER = GuestHttpDispatcher.class.getName();
    private static final String LOGGER_GUEST = "io.github.tinywasm.wasi.guest.logger";

    @TempDir
    Path modules;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private void deploy(String module, String guest, String rule) throws Exception {
        Files.write(modules.resolve(module + ".wasm"), Guests.built(guest));
        if (rule != null) {
            Files.createDirectories(modules.resolve(module));
            Files.writeString(modules.resolve(module).resolve("rule.txt"), rule);
        }
    }

    private WasiServer start(HttpConfig http, String module, HttpAccess access, String... more) {
        WasiConfig.Builder config = WasiConfig.builder().modulesDir(modules).watch(false).http(http)
                .capabilities(module, Capabilities.ALL.withHttp(access));
        for (int i = 0; i < more.length; i += 2) {
            config.capabilities(more[i], Capabilities.ALL.withHttp(
                    more[i + 1].equals("disabled") ? HttpAccess.DISABLED : HttpAccess.of(true, List.of(more[i + 1]))));
        }
        server = new WasiServer(config.build());
        server.start();
        return server;
    }

    private GuestHttpResponse send(String module, String target) throws Exception {
        return server.http().dispatch(module, get(target)).get(60, TimeUnit.SECONDS);
    }

    private ModuleInfo info(String module) {
        return server.module(module).orElseThrow();
    }

    private static long lines(LogCapture logs, String text) {
        return logs.lines().stream().filter(l -> l.startsWith(DISPATCHER) && l.contains(text)).count();
    }

    @Test
    void aRequestOutsideTheModulesPathsIs403NamingModuleAndPathBeforeAnyGuestRuns() throws Exception {
        deploy("logger", "http_logger", "*");
        deploy("users", "http_users", null);
        try (LogCapture logs = new LogCapture()) {
            start(HttpConfig.DEFAULTS, "users", HttpAccess.of(true, List.of("/api/**", "/users/*")));
            assertThat(send("users", "/m/users/api/v1/x").bodyAsString()).isEqualTo("users: GET /m/users/api/v1/x");
            assertThat(send("users", "/m/users/users/42").bodyAsString()).isEqualTo("users: GET /m/users/users/42");

            GuestHttpResponse admin = send("users", "/m/users/admin?x=1");
            assertThat(admin.status()).isEqualTo(403);
            assertThat(admin.bodyAsString()).isEqualTo("module 'users' does not accept HTTP requests to path '/admin'\n");
            assertThat(admin.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(admin.module()).as("tagged with the module for metrics").isEqualTo("users");
            // a dot segment gets no further than a narrow pattern, nor does the module's root or another segment count
            assertThat(send("users", "/m/users/api/../admin").status()).isEqualTo(403);
            assertThat(send("users", "/m/users").status()).isEqualTo(403);
            assertThat(send("users", "/m/users/users/42/x").status()).isEqualTo(403);
            assertThat(server.http().dispatch("users", request("POST", "/m/users/admin", List.of(), "x".getBytes()))
                    .get(60, TimeUnit.SECONDS).status()).isEqualTo(403);

            ModuleInfo users = info("users");
            assertThat(users.counters().denied()).isEqualTo(5);
            assertThat(users.http().requests()).as("only the two allowed ones reached the module").isEqualTo(2);
            assertThat(users.counters().errors()).isZero();
            assertThat(users.http().enabled()).isTrue();
            assertThat(users.http().paths()).containsExactly("/api/**", "/users/*");
            assertThat(info("logger").http().requests()).as("no middleware ran for a refused request").isEqualTo(2);
            assertThat(logs.contains(LOGGER_GUEST, "/m/users/admin")).isFalse();
            assertThat(lines(logs, "[users] refused HTTP GET /m/users/admin (path within the module '/admin'): its "
                    + "capabilities allow [/api/**, /users/*] (tinywasm.wasi.modules.users.http.paths)")).isEqualTo(1);
            assertThat(lines(logs, "refused HTTP")).as("once per module and reason, rate-limited").isEqualTo(1);
        }
    }

    @Test
    void aDisabledModuleIs403AndASecondReasonIsLoggedOnItsOwn() throws Exception {
        deploy("users", "http_users", null);
        deploy("echo", "http_echo", null);
        try (LogCapture logs = new LogCapture()) {
            start(HttpConfig.DEFAULTS, "echo", HttpAccess.DISABLED, "users", "/ok");
            GuestHttpResponse r = send("echo", "/m/echo/anything");
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.bodyAsString()).isEqualTo("module 'echo' does not accept HTTP requests\n");
            assertThat(send("echo", "/m/echo").status()).isEqualTo(403);
            assertThat(info("echo").counters().denied()).isEqualTo(2);
            assertThat(info("echo").http().requests()).isZero();
            assertThat(info("echo").http().enabled()).isFalse();
            assertThat(send("users", "/m/users/nope").status()).isEqualTo(403);
            assertThat(send("users", "/m/users/ok").status()).isEqualTo(200);
            assertThat(lines(logs, "[echo] refused HTTP")).isEqualTo(1);
            assertThat(lines(logs, "(tinywasm.wasi.modules.echo.http.enabled)")).isEqualTo(1);
            assertThat(lines(logs, "[users] refused HTTP")).isEqualTo(1);
        }
    }

    @Test
    void aMiddlewareWhoseHttpIsDisabledIsSkippedNotRunAndNotCounted() throws Exception {
        deploy("auth", "http_auth", "echo"); // answers 401 to a request without Authorization
        deploy("logger", "http_logger", "*");
        deploy("echo", "http_echo", null);
        try (LogCapture logs = new LogCapture()) {
            start(HttpConfig.DEFAULTS, "auth", HttpAccess.DISABLED);
            GuestHttpResponse r = send("echo", "/m/echo/open");
            assertThat(r.status()).as("auth skipped: the request reaches echo unauthenticated").isEqualTo(200);
            assertThat(logs.contains(LOGGER_GUEST, "intercepting request GET /m/echo/open")).isTrue();
            assertThat(info("auth").http().requests()).isZero();
            assertThat(info("auth").counters().denied()).as("skipping is not a denial").isZero();
            assertThat(info("auth").http().middleware()).isEqualTo("echo");
            assertThat(info("auth").http().enabled()).isFalse();
            assertThat(send("auth", "/m/auth").status()).as("a middleware is still never a target").isEqualTo(404);
        }
    }

    @Test
    void pathsAreRelativeToTheConfiguredBasePath() throws Exception {
        deploy("users", "http_users", null);
        start(HttpConfig.DEFAULTS.withBasePath("/g"), "users", HttpAccess.of(true, List.of("/users/*")));
        assertThat(send("users", "/g/users/users/1").status()).isEqualTo(200);
        assertThat(send("users", "/g/users/m/users/users/1").status()).isEqualTo(403);
        assertThat(info("users").counters().denied()).isEqualTo(1);
    }

    @Test
    void thePathInAModuleIsWhatFollowsBasePathAndName() {
        assertThat(GuestHttpDispatcher.pathInModule("/m/users/42", "/m", "users")).isEqualTo("/42");
        assertThat(GuestHttpDispatcher.pathInModule("/m/users", "/m", "users")).isEqualTo("/");
        assertThat(GuestHttpDispatcher.pathInModule("/m/users/", "/m", "users")).isEqualTo("/");
        assertThat(GuestHttpDispatcher.pathInModule("/m/users/a/b/", "/m", "users")).isEqualTo("/a/b/");
        assertThat(GuestHttpDispatcher.pathInModule("/x/m/users/42", "/x/m", "users")).isEqualTo("/42");
        assertThat(GuestHttpDispatcher.pathInModule("/users/42", "/", "users")).isEqualTo("/42");
        assertThat(GuestHttpDispatcher.pathInModule("/m/usersx/42", "/m", "users")).as("not under it: as it is")
                .isEqualTo("/m/usersx/42");
    }
}
