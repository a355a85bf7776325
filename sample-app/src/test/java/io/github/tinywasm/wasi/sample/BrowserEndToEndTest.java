package io.github.tinywasm.wasi.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiPublisher;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicFanOut;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
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
 * The sample app in a real headless Chromium (Debian's chromium and chromedriver, no browser download): one test
 * per card of the page, each driving it as a user would and checking what the guest answered; the hot-swap demo
 * redeploys the chat module's file while the page sends, and every line is answered exactly once without the page
 * reconnecting. The page's connection going away and coming back loses and repeats no chat line (the starter's
 * JavaScript client resumes from the history).
 */
@SpringBootTest(classes = SampleApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"tinywasm.wasi.watch-quiet-period=100ms", "tinywasm.wasi.watch-poll-interval=500ms"})
class BrowserEndToEndTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final List<String> LIVE_TOPICS = List.of("chat", "users", "echo", "shout");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static Path modules;
    static WebDriver browser;

    @DynamicPropertySource
    static void modules(DynamicPropertyRegistry registry) throws Exception {
        modules = SampleModules.freshFolder();
        Path versions = SampleModules.versionsFolder();
        registry.add("tinywasm.wasi.modules-dir", modules::toString);
        registry.add("sample.versions-dir", versions::toString);
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

    @BeforeEach
    void openThePage() {
        browser.get("http://localhost:" + port + "/");
        for (String topic : LIVE_TOPICS) {
            waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-" + topic), "live"));
        }
    }

    @Autowired
    TopicFanOut fanOut;

    @Autowired
    WasiPublisher publisher;

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds));
    }

    private List<String> lines(String listId) {
        return browser.findElements(By.cssSelector("#" + listId + " li")).stream().map(WebElement::getText).toList();
    }

    private List<String> roster() {
        return browser.findElements(By.cssSelector("#users-list li")).stream().map(li -> li.getDomAttribute("data-name")).toList();
    }

    private List<String> chatLines() {
        return lines("chat-log");
    }

    private void say(String text) {
        type("chat-input", text, "chat-send");
    }

    private void type(String inputId, String text, String buttonId) {
        browser.findElement(By.id(inputId)).sendKeys(text);
        browser.findElement(By.id(buttonId)).click();
    }

    private String value(String inputId) {
        return browser.findElement(By.id(inputId)).getDomProperty("value");
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    @Test
    void chatCardSendsThroughTheGuestAndClearsItsInput() {
        type("chat-input", "hello from chromium", "chat-send");
        waitUpTo(10).until(d -> lines("chat-log").stream().anyMatch(l -> l.matches("#\\d+ (\\[v2\\] )?hello from chromium")));
        assertThat(value("chat-input")).isEmpty();
    }

    @Test
    void usersCardShowsTheRosterAsAListAndRemovesFromIt() {
        type("user-name", "alice", "user-add");
        type("user-name", "bob", "user-add");
        waitUpTo(10).until(d -> roster().equals(List.of("alice", "bob")));
        assertThat(value("user-name")).isEmpty();
        assertThat(text("users-last")).isEqualTo("added bob");

        browser.findElement(By.cssSelector("#users-list li:first-child .user-remove")).click();
        waitUpTo(10).until(d -> roster().equals(List.of("bob")));
        assertThat(text("users-last")).isEqualTo("removed alice");
        // the roster reached the application too, as an ApplicationEvent
        waitUpTo(10).until(d -> get("/api/users").body().contains("1 user: bob"));
    }

    @Test
    void echoCardEchoesThroughTheWatModule() {
        type("echo-input", "ping 42", "echo-send");
        waitUpTo(10).until(d -> lines("echo-log").contains("ping 42"));
        assertThat(value("echo-input")).isEmpty();
    }

    @Test
    void shoutCardUpperCasesThroughTheAssemblyScriptModule() {
        type("shout-input", "quiet please", "shout-send");
        waitUpTo(10).until(d -> lines("shout-log").contains("QUIET PLEASE!"));
        assertThat(value("shout-input")).isEmpty();
    }

    @Test
    void trafficCardCountsWhatThePageSends() {
        browser.findElement(By.id("stats-watch")).click();
        waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-stats"), "live"));
        say("traffic one");
        waitUpTo(10).until(d -> chatInCount() > 0);
        long seen = chatInCount();
        say("traffic two");
        waitUpTo(10).until(d -> chatInCount() == seen + 1);
        assertThat(browser.findElements(By.cssSelector("#stats-words li"))).isNotEmpty();
    }

    /** The Traffic card's count for topic chat.in (its list is dt topic, dd count), or 0 before the first one. */
    private long chatInCount() {
        List<WebElement> terms = browser.findElements(By.cssSelector("#stats-messages dt"));
        List<WebElement> counts = browser.findElements(By.cssSelector("#stats-messages dd"));
        for (int i = 0; i < terms.size() && i < counts.size(); i++) {
            if (terms.get(i).getText().equals("chat.in")) {
                return Long.parseLong(counts.get(i).getText());
            }
        }
        return 0;
    }

    @Test
    void loggerCardCountsTheLinesTheModuleWrote() {
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-logger"), "serving"));
        long before = server.module("logger").orElseThrow().counters().delivered();
        type("chat-input", "for the log", "chat-send");
        waitUpTo(10).until(d -> {
            String count = text("logger-count");
            return count.matches("\\d+") && Long.parseLong(count) > before;
        });
    }

    @Test
    void modulesTableShowsEngineVersionSwapsAndErrors() {
        for (String name : SampleModules.MODULES) {
            waitUpTo(10).until(ExpectedConditions.textToBePresentInElementLocated(By.id("module-" + name), "SERVING"));
        }
        List<String> cells = browser.findElements(By.cssSelector("#module-echo td")).stream().map(WebElement::getText).toList();
        String sha = server.module("echo").orElseThrow().sha256();
        assertThat(cells.get(0)).isEqualTo("echo");
        assertThat(cells.get(2)).isEqualTo(server.module("echo").orElseThrow().engine());
        assertThat(cells.get(3)).isEqualTo(sha.substring(0, 12));
        assertThat(cells.get(4)).isEqualTo("0"); // swaps
        assertThat(cells.get(6)).isEqualTo("0"); // errors
    }

    @Test
    void swapDemoRedeploysChatWhileThePageSendsAndEveryLineIsAnsweredOnce() {
        String opens = browser.findElement(By.tagName("body")).getDomAttribute("data-opens");
        long swaps = server.module("chat").orElseThrow().counters().swaps();

        browser.findElement(By.id("swap-run")).click();
        waitUpTo(60).until(d -> "true".equals(browser.findElement(By.id("swap-result")).getDomAttribute("data-done")));

        Matcher m = Pattern.compile("(\\d+) sent · (\\d+) answered \\(old version (v\\d): (\\d+), new version (v\\d): (\\d+)\\) "
                + "· 0 waiting · 0 duplicates").matcher(text("swap-result"));
        assertThat(m.matches()).as(text("swap-result")).isTrue();
        assertThat(m.group(1)).isEqualTo(m.group(2));
        assertThat(Integer.parseInt(m.group(4))).isGreaterThanOrEqualTo(10); // sent before the file changed
        assertThat(Integer.parseInt(m.group(6))).isGreaterThanOrEqualTo(10);
        assertThat(m.group(3)).isNotEqualTo(m.group(5));
        assertThat(server.module("chat").orElseThrow().counters().swaps()).isEqualTo(swaps + 1);
        assertThat(browser.findElement(By.tagName("body")).getDomAttribute("data-opens")).isEqualTo(opens); // no reconnect
        waitUpTo(10).until(ExpectedConditions.textToBe(By.xpath("//tr[@id='module-chat']/td[5]"),
                String.valueOf(swaps + 1)));
    }

    /** Chat lines that are the guest's reply to {@code text} (of either version of the chat module). */
    private long replies(String text) {
        return chatLines().stream().filter(l -> l.matches("#\\d+ (\\[v2\\] )?" + Pattern.quote(text))).count();
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
        waitUpTo(15).until(ExpectedConditions.textToBe(By.id("status-notes"), "0 notes"));
        type("note-text", "water the <plants>", "note-add");
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-notes"), "1 note"));
        assertThat(lines("notes-list").get(0)).startsWith("water the <plants>");
        assertThat(value("note-text")).isEmpty();

        // the same API from a plain HTTP client: JSON from the guest
        HttpResponse<String> list = get("/m/notes");
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(list.body()).isEqualTo("{\"notes\":[{\"id\":1,\"text\":\"water the \\u003cplants\\u003e\"}],\"count\":1}");

        browser.findElement(By.cssSelector("#notes-list .note-delete")).click();
        waitUpTo(10).until(ExpectedConditions.textToBe(By.id("status-notes"), "0 notes"));
        assertThat(server.module("notes").orElseThrow().http().requests()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void apiPublishesOnlyToTheGuestsInputsWithoutAContentDisposition() {
        HttpResponse<String> accepted = post("/api/publish/chat.in", "hi");
        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(accepted.headers().firstValue("Content-Disposition")).isEmpty();
        assertThat(accepted.body()).contains("\"topic\":\"chat.in\"", "\"published\":\"hi\"");
        HttpResponse<String> forged = post("/api/publish/chat.log", "forged");
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(forged.headers().firstValue("Content-Disposition")).isEmpty();
        assertThat(post("/api/publish/chat.in", "   ").statusCode()).isEqualTo(400);
        assertThat(post("/api/publish/chat.in", "").statusCode()).isEqualTo(400);
        assertThat(post("/api/publish/chat.in", "x".repeat(513)).statusCode()).isEqualTo(400);
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build());
    }

    private HttpResponse<String> post(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(request.uri() + ": " + e, e);
        }
    }
}
