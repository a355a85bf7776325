package io.github.tinywasm.wasi.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The sample app in a real headless Chromium (Debian's chromium and chromedriver, no browser download): the
 * user sends a chat line through the page and sees the guest's reply; then the chat module's file is
 * replaced and the same page, without reconnecting, shows the new version's replies. The page's connection going
 * away and coming back loses and repeats no chat line (the starter's JavaScript client resumes from the history).
 */
@SpringBootTest(classes = SampleApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"tinywasm.wasi.watch-quiet-period=100ms", "tinywasm.wasi.watch-poll-interval=500ms"})
class BrowserEndToEndTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    static Path modules;
    static WebDriver browser;

    @DynamicPropertySource
    static void modules(DynamicPropertyRegistry registry) throws Exception {
        modules = SampleModules.freshFolder();
        registry.add("tinywasm.wasi.modules-dir", modules::toString);
    }

    @BeforeAll
    static void startBrowser() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new IllegalStateException("Debian's chromium and chromium-driver are required: run scripts/setup.sh");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + Files.createTempDirectory("chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    WasiServer server;

    @Autowired
    TopicFanOut fanOut;

    @Autowired
    WasiPublisher publisher;

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds));
    }

    private List<String> chatLines() {
        return browser.findElements(By.cssSelector("#chat-log li")).stream().map(WebElement::getText).toList();
    }

    private void say(String text) {
        WebElement input = browser.findElement(By.id("chat-input"));
        input.sendKeys(text);
        browser.findElement(By.id("chat-send")).click();
    }

    @Test
    void chatThroughTheGuestThenSwapItWhileThePageStaysConnected() throws Exception {
        browser.get("http://localhost:" + port + "/");
        for (String topic : List.of("chat", "users", "echo")) {
            waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-" + topic), "live"));
        }
        String opens = browser.findElement(By.tagName("body")).getDomAttribute("data-opens");
        assertThat(opens).isEqualTo("3");

        say("hello from chromium");
        waitUpTo(10).until(d -> chatLines().stream().anyMatch(l -> l.matches("#\\d+ hello from chromium")));

        // the stateful users module answers through the page too, and the roster reached the application as an event
        browser.findElement(By.id("user-name")).sendKeys("alice");
        browser.findElement(By.id("user-add")).click();
        waitUpTo(10).until(ExpectedConditions.textToBePresentInElementLocated(By.id("roster"), "1 user: alice"));

        // the modules table shows what /actuator/wasi says
        waitUpTo(10).until(ExpectedConditions.textToBePresentInElementLocated(By.id("module-chat"), "SERVING"));

        long swaps = server.module("chat").orElseThrow().counters().swaps();
        SampleModules.deploy(SampleModules.built("chat-v2"), modules, "chat");
        await().atMost(Duration.ofSeconds(20)).until(() -> server.module("chat").orElseThrow().counters().swaps() == swaps + 1);

        say("after the swap");
        waitUpTo(10).until(d -> chatLines().stream().anyMatch(l -> l.matches("#\\d+ \\[v2\\] after the swap")));
        assertThat(browser.findElement(By.id("status-chat")).getText()).isEqualTo("live");
        assertThat(browser.findElement(By.tagName("body")).getDomAttribute("data-opens")).isEqualTo(opens); // no reconnect
        waitUpTo(10).until(ExpectedConditions.textToBe(By.xpath("//tr[@id='module-chat']/td[5]"), "1")); // swaps
    }

    /** Chat lines that are the guest's reply to {@code text} (of either version of the chat module). */
    private long replies(String text) {
        return chatLines().stream().filter(l -> l.matches("#\\d+ (\\[v2\\] )?" + java.util.regex.Pattern.quote(text))).count();
    }

    /**
     * The page's connection goes away (closed, then dropped as by a network failure) while the chat goes on: it comes
     * back by itself with backoff and resumes after the last line it saw, so every line shows exactly once.
     */
    @Test
    void aPageWhoseConnectionGoesAwayResumesWithoutLosingOrRepeatingALine() throws Exception {
        browser.get("http://localhost:" + port + "/");
        waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-chat"), "live"));
        JavascriptExecutor page = (JavascriptExecutor) browser;
        say("before going away");
        waitUpTo(10).until(d -> replies("before going away") == 1);
        long recovered = fanOut.stats().replaysRecovered();

        // closed while the chat goes on: opened again, it gets what it missed from the history
        int sessions = fanOut.sessionCount();
        page.executeScript("window.tinywasmSample.chat.close()");
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.sessionCount() == sessions - 1);
        long last = fanOut.lastOffset("chat").minor();
        for (int i = 1; i <= 3; i++) {
            publisher.publish("chat.in", "while away " + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.lastOffset("chat").minor() >= last + 3);
        page.executeScript("window.tinywasmSample.chat.open()");
        for (int i = 1; i <= 3; i++) {
            String line = "while away " + i;
            waitUpTo(10).until(d -> replies(line) == 1);
        }
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-chat"), "live"));
        assertThat(((Number) page.executeScript("return window.tinywasmSample.chat.lastNotice.replayed")).intValue())
                .isEqualTo(3);
        assertThat(fanOut.stats().replaysRecovered()).isEqualTo(recovered + 1);

        // dropped as by a network failure: it reconnects by itself and resumes
        page.executeScript("window.tinywasmSample.chat.drop()");
        publisher.publish("chat.in", "during the drop");
        waitUpTo(20).until(d -> replies("during the drop") == 1);
        waitUpTo(20).until(ExpectedConditions.textToBe(By.id("status-chat"), "live"));
        await().atMost(Duration.ofSeconds(10)).until(() -> fanOut.stats().replaysRecovered() == recovered + 2);
        say("after coming back");
        waitUpTo(10).until(d -> replies("after coming back") == 1);
        assertThat(replies("before going away")).isEqualTo(1);
        for (int i = 1; i <= 3; i++) {
            assertThat(replies("while away " + i)).isEqualTo(1);
        }
    }

    @Test
    void theNotesCardTalksHttpToTheRustModule() throws Exception {
        browser.get("http://localhost:" + port + "/");
        waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-notes"), "0 notes"));
        WebElement input = browser.findElement(By.id("note-text"));
        input.sendKeys("water the <plants>");
        browser.findElement(By.id("note-add")).click();
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-notes"), "1 note"));
        assertThat(browser.findElement(By.cssSelector("#notes-list li")).getText()).startsWith("water the <plants>");

        // the same API from a plain HTTP client: JSON from the guest
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpResponse<String> list = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + "/m/notes")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(list.body()).isEqualTo("{\"notes\":[{\"id\":1,\"text\":\"water the \\u003cplants\\u003e\"}],\"count\":1}");

        browser.findElement(By.cssSelector("#notes-list .note-delete")).click();
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-notes"), "0 notes"));
        assertThat(server.module("notes").orElseThrow().http().requests()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void apiPublishesOnlyToTheGuestsInputsAndRejectsEmptyBodies() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.function.BiFunction<String, String, Integer> post = (topic, body) -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://localhost:" + port + "/api/publish/" + topic))
                        .header("Content-Type", "text/plain")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        assertThat(post.apply("chat.in", "hi")).isEqualTo(202);
        assertThat(post.apply("chat.log", "forged")).isEqualTo(400);
        assertThat(post.apply("chat.in", "   ")).isEqualTo(400);
        assertThat(post.apply("chat.in", "x".repeat(513))).isEqualTo(400);
    }
}
