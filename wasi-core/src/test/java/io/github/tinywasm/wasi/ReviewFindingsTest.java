package io.github.tinywasm.wasi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adversarial review (review1): each test breaks a promise of the engine's docs and is expected to FAIL until the
 * cause named in its comment is fixed. Real guests (WAT compiled here), real files, no mocks.
 */
class ReviewFindingsTest {

    @TempDir
    Path dir;

    private WasiServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private ModuleInfo info(String name) {
        return server.module(name).orElseThrow();
    }

    // ---- Finding: Java subscribers run on the guests' worker pool, uncompensated --------------------------------

    /**
     * Promise (JavaSubscription javadoc, WasiEventBridge javadoc): "a slow consumer delays neither guests nor
     * publishers". Broken: a Java consumer runs on a wasi-worker and its blocking is not a managed block, so
     * {@code worker-threads} slow consumers (2 on a 2-core machine, the default) take every worker and no guest
     * receives anything until they return.
     * Suspected cause: WasiServer.subscribe/subscribeAll (WasiServer.java:504, 517) hand JavaSubscription the guests'
     * ForkJoinPool; JavaSubscription.handle (JavaSubscription.java:53) calls the consumer on it directly.
     */
    @Test
    void slowJavaSubscribersStarveEveryGuest() {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).build());
        server.load("relay", Guests.relay("in", "relay-out"));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch busy = new CountDownLatch(2);
        java.util.function.Consumer<Message> slow = m -> {
            busy.countDown();
            try {
                release.await(60, TimeUnit.SECONDS); // a slow @EventListener: a JDBC call, an HTTP call, ...
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        server.subscribe("audit", slow);
        server.subscribe("audit", slow);
        try {
            server.publish("audit", "x");
            await().atMost(Duration.ofSeconds(10)).until(() -> busy.getCount() == 0);

            server.publish("in", "hello");

            await().atMost(Duration.ofSeconds(10)).untilAsserted(
                    () -> assertThat(info("relay").counters().delivered()).isEqualTo(1));
        } finally {
            release.countDown();
        }
    }

    /**
     * Promise (operations.md "Remove a module": "It stops receiving at once, delivers what it had already accepted,
     * drains, and closes"). Broken when the unload is called from a Java subscriber (an @EventListener reacting to a
     * guest's message) and the pool has one worker (worker-threads=1 is accepted): the unload waits for the module's
     * mailbox on the only worker, which it holds itself, for the whole drain timeout, then drops everything the
     * module had accepted as 'closed'.
     * Suspected cause: ModuleSlot.unload (ModuleSlot.java:268) waits in Mailbox.awaitEmpty (not a managed block) on a
     * pool thread; see the finding above.
     */
    @Test
    void unloadCalledFromAJavaSubscriberDropsWhatTheModuleAccepted() {
        server = new WasiServer(WasiConfig.builder().workerThreads(1).drainTimeout(Duration.ofSeconds(2)).build());
        server.load("m", Guests.relay("in", "out"));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean unloaded = new AtomicBoolean();
        server.subscribe("undeploy", msg -> {
            for (int i = 0; i < 5; i++) {
                server.publish("in", "last-" + i); // accepted by m: it is subscribed
            }
            unloaded.set(server.unload("m"));
        });

        server.publish("undeploy", "m");

        await().atMost(Duration.ofSeconds(20)).untilTrue(unloaded);
        assertThat(out.awaitCount(5, Duration.ofSeconds(10))).extracting(Message::payloadAsString)
                .containsExactly("last-0", "last-1", "last-2", "last-3", "last-4");
    }

    // ---- Finding: a swap run by a pool thread waits for itself ---------------------------------------------------

    /**
     * Promise (architecture.md step 3, configuration.md mailbox.overflow): "The new version's init may publish to the
     * slot's own topics meanwhile: that never waits for the paused mailbox (the swapping thread counts as its
     * worker)". Broken when the swap runs on a wasi-worker, i.e. from a Java subscriber or an @EventListener (a
     * "deploy" message handled by the application): the init's publish waits the whole publish-timeout for a mailbox
     * its own thread paused, then drops the message.
     * Suspected cause: Mailbox.pause (Mailbox.java:340-344) makes the pausing thread this mailbox's worker only
     * `if (SERVING.get() == null)`; a pool thread already serves its own (the Java subscription's) mailbox, so
     * Mailbox.offer (Mailbox.java:127) sees self != this and waits. Fix: track the pauser by thread in offer (pauser ==
     * Thread.currentThread() means self = this), or stack SERVING in pause/resume.
     */
    @Test
    void swapRunFromAJavaSubscriberWaitsForItsOwnPausedMailboxAndDrops() throws Exception {
        server = new WasiServer(WasiConfig.builder().workerThreads(2).mailboxCapacity(4)
                .overflowPolicy(OverflowPolicy.BLOCK).publishTimeout(Duration.ofSeconds(2))
                .drainTimeout(Duration.ofSeconds(3)).build());
        // v1 subscribes to "self" and never finishes draining, which keeps the swap paused for the drain timeout.
        server.load("m", Guests.wat(Guests.relayWat("self", "out", """
                  (func (export "drain") (result i32) (i32.const 5))
                """)));
        byte[] v2 = Guests.wat(Guests.relayWat("self", "out", """
                  (data (i32.const 700) "from-init")
                  (func $announce (call $publish (i32.const 16) (i32.const 4) (i32.const 700) (i32.const 9)))
                """).replace("(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 4) (i32.const 0)))",
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 4) (i32.const 0)) (call $announce))"));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean swapped = new AtomicBoolean();
        server.subscribe("deploy", msg -> { // the application deploys on a message: the swap runs on a wasi-worker
            server.load("m", v2);
            swapped.set(true);
        });

        server.publish("deploy", "m");
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        for (int i = 0; i < 4; i++) {
            server.publish("self", "queued-" + i); // fills the paused mailbox (capacity 4)
        }
        await().atMost(Duration.ofSeconds(30)).untilTrue(swapped);

        assertThat(info("m").counters().dropped().get(DropReason.MAILBOX_FULL)).as("init's publish dropped").isZero();
        assertThat(out.awaitCount(5, Duration.ofSeconds(20))).extracting(Message::payloadAsString)
                .containsExactly("queued-0", "queued-1", "queued-2", "queued-3", "from-init");
        assertThat(info("m").counters().droppedTotal()).isZero();
    }

    // ---- Finding: a swap is not bounded by the drain timeout -----------------------------------------------------

    /**
     * Promise (operations.md "Stopping and closing": "A swap is bounded the same way" as stop, by one drain-timeout
     * "whatever call-timeout says"; "If anything fails before the commit, the old version keeps serving and nothing is
     * lost"; design: a looping guest "gets a clear, specific error ... the old version of a module keeps serving").
     * Broken: the new version's init runs while the old version's mailbox is paused and is bounded only by
     * call-timeout; with call-timeout 0 (a documented setting) a new version whose init loops holds the swap forever:
     * load() never returns, the old version never serves again (its messages queue, then block or drop), and the
     * thread that swapped (the folder watcher, or an actuator request) is lost. With the default call-timeout (10 s)
     * the old version is paused for that long.
     * Suspected cause: ModuleSlot.load calls next.init() (ModuleSlot.java:143, after the pause) without a
     * deadline; only old.interruptAfter(deadline) is set. Fix: give the new instance the same deadline
     * (next.interruptAfter(deadline)) for init, then lift it (noDeadline) once committed.
     */
    @Test
    void aNewVersionWhoseInitLoopsHoldsTheSwapAndPausesTheOldVersionForever() throws Exception {
        server = new WasiServer(WasiConfig.builder().callTimeout(Duration.ZERO).drainTimeout(Duration.ofSeconds(1)).build());
        server.load("m", Guests.relay("in", "out"));
        byte[] loopingInit = Guests.wat(Guests.relayWat("in", "out", "").replace(
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)))",
                "(func (export \"init\") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0)) (loop $l (br $l)))"));
        Collector out = new Collector();
        server.subscribe("out", out);
        AtomicBoolean returned = new AtomicBoolean();
        Thread swapper = new Thread(() -> {
            try {
                server.load("m", loopingInit);
            } catch (WasiModuleException e) {
                // a failed swap is the right outcome: the old version keeps serving
            } finally {
                returned.set(true);
            }
        }, "review-swapper");
        swapper.setDaemon(true);
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        server.publish("in", "while swapping");

        // drain-timeout (1 s) plus the 2 s stop() is allowed, and a wide margin for a busy machine
        await().atMost(Duration.ofSeconds(15)).untilTrue(returned);
        assertThat(out.awaitCount(1, Duration.ofSeconds(10))).extracting(Message::payloadAsString)
                .containsExactly("while swapping");
    }

    // ---- Finding: two files, one module --------------------------------------------------------------------------

    /**
     * Promise (operations.md "Deploying a module": a module is a file, "one that disappears is unloaded";
     * architecture.md "The modules folder"). Broken: ModuleFiles.isWasm matches ".wasm" in any case, so
     * "m.wasm" and "m.WASM" are two files of one module "m"; deleting the stray "m.WASM" unloads module "m" although
     * its file "m.wasm" is still there, and nothing loads it again (the watcher keeps "m.wasm" as known and
     * unchanged).
     * Suspected cause: ModuleFiles.moduleName/isWasm (ModuleFiles.java:24-31) and ModuleDirectoryWatcher.apply
     * (ModuleDirectoryWatcher.java:191-197) unloading by name without checking that no other file still holds the
     * module. Fix: accept only the exact ".wasm" extension (what WasiServer.newFileEvent's javadoc implies), or
     * refuse a second file for a module name.
     */
    @Test
    void deletingAStrayUpperCaseFileUnloadsTheModuleWhoseFileRemains() throws Exception {
        byte[] relay = Guests.relay("in", "out");
        Files.write(dir.resolve("m.wasm"), relay);
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watchQuietPeriod(Duration.ofMillis(200))
                .watchPollInterval(Duration.ofMillis(300)).build());
        server.start();
        assertThat(info("m").state()).isEqualTo(ModuleState.SERVING);

        Path stray = dir.resolve("m.WASM"); // e.g. copied from a case-insensitive file system, then noticed and deleted
        Files.write(stray, Guests.relay("in", "stray-out"));
        // A file written after the stray one: once the watcher has loaded it, it has seen the stray file too.
        Files.write(dir.resolve("probe1.wasm"), Guests.relay("p", "q"));
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("probe1").isPresent());
        assertThat(info("m").counters().swaps()).as("m.WASM is not a file of module m").isZero();
        assertThat(server.module("m.WASM")).isEmpty();
        Files.delete(stray);
        Files.write(dir.resolve("probe2.wasm"), Guests.relay("p", "q"));
        await().atMost(Duration.ofSeconds(15)).until(() -> server.module("probe2").isPresent());

        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(server.module("m")).as("module m, whose file m.wasm is still in the folder")
                        .isPresent());
        assertThat(info("m").counters().swaps()).isZero();
        assertThat(Files.exists(dir.resolve("m.wasm"))).isTrue();
    }

    // ---- Finding: counters that disagree with what happened ---------------------------------------------------

    /**
     * Promise (ModuleCounters javadoc: delivered = "messages handed to the module's on_message without error";
     * operations.md troubleshooting: "[x] subscribes to [...] but exports no on_message: its messages will be dropped
     * and counted", which this very module logs at load). Broken: a module without on_message/on_topic_message counts
     * every message as delivered and none as dropped; nothing reaches any guest code.
     * Suspected cause: WasmModule.deliver returns null when there is no handler (WasmModule.java:308-310) and
     * ModuleSlot.handle then counts it as delivered (ModuleSlot.java:328). Fix: a drop reason (e.g. no-handler),
     * or drop as no-allocator's sibling, counted in wasi.messages.dropped.
     */
    @Test
    void messagesToAModuleWithoutOnMessageAreCountedAsDeliveredNotDropped() {
        server = new WasiServer(WasiConfig.builder().build());
        server.load("deaf", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "in")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 2) (i32.const 0))))
                """));
        for (int i = 0; i < 3; i++) {
            server.publish("in", "m" + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> info("deaf").mailboxDepth() == 0
                && info("deaf").counters().delivered() + info("deaf").counters().droppedTotal() >= 3);

        ModuleCounters c = info("deaf").counters();
        assertThat(c.delivered()).as("delivered to an on_message the module does not have").isZero();
        assertThat(c.droppedTotal()).as("dropped, as the load warning says").isEqualTo(3);
    }

    /**
     * Promise (ModuleCounters javadoc: calls = "guest calls made to handle messages"; configuration.md
     * wasi.guest.calls: "Messages handled by the guest and the time spent in it"). Broken: messages dropped without
     * any guest call (queued across a swap for a topic the new version does not subscribe to) count as guest calls,
     * so wasi.guest.calls' count and mean time are wrong after every swap that drops.
     * Suspected cause: Mailbox.run reports every message of the batch to batchDone (Mailbox.java:295) and
     * ModuleSlot.batchDone adds them all to calls (ModuleSlot.java:352-353), including those ModuleSlot.handle
     * dropped as unsubscribed or closed (ModuleSlot.java:317, 321).
     */
    @Test
    void messagesDroppedWithoutAGuestCallAreCountedAsGuestCalls() throws Exception {
        server = new WasiServer(WasiConfig.builder().drainTimeout(Duration.ofSeconds(2)).build());
        server.load("m", Guests.wat(Guests.relayWat("a", "out", """
                  (func (export "drain") (result i32) (i32.const 5))
                """))); // v1: topic "a", keeps the swap paused for the drain timeout
        Thread swapper = new Thread(() -> server.load("m", Guests.relay("b", "out"))); // v2: topic "b" only
        swapper.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").state() == ModuleState.SWAPPING);
        for (int i = 0; i < 3; i++) {
            server.publish("a", "queued-" + i);
        }
        swapper.join();
        await().atMost(Duration.ofSeconds(10)).until(() -> info("m").counters().dropped().get(DropReason.UNSUBSCRIBED) == 3);

        ModuleCounters c = info("m").counters();
        assertThat(c.delivered()).isZero();
        assertThat(c.calls()).as("guest calls made for messages that never reached the guest").isZero();
    }

    // ---- Finding: a module file whose name is not a valid module name -----------------------------------------

    /**
     * Promise (operations.md "Deploying a module": "A module is a file in the modules folder; its name is the file
     * name without .wasm"; "A file that cannot be used is a module error, never a silent skip ... the module shows
     * FAILED in /actuator/wasi"). Broken: a file named like "my module.wasm" or "-beta.wasm" (nothing in the docs
     * restricts names) is neither loaded nor shown anywhere but one log line: WasiServer.requireName throws an
     * IllegalArgumentException before a slot exists, so there is no FAILED module, no counter, no meter.
     * Suspected cause: WasiServer.read/requireName (WasiServer.java:335, 368, 578), with start() (WasiServer.java:
     * 129-136) and ModuleDirectoryWatcher.apply (ModuleDirectoryWatcher.java:205) only logging. Fix: document the
     * name rule in operations.md and report such a file as a failed module (or under a reserved name) with a clear
     * error, like a file too large.
     */
    @Test
    void aFileWhoseNameIsNotAModuleNameIsNeitherLoadedNorReported() throws Exception {
        Files.write(dir.resolve("my module.wasm"), Guests.relay("in", "out"));
        server = new WasiServer(WasiConfig.builder().modulesDir(dir).watch(false).build());
        server.start();

        assertThat(server.modules()).as("what /actuator/wasi lists for the folder's only module file").isNotEmpty();
    }

    // ---- Finding: topics are bytes for guests, strings here ------------------------------------------------------

    /**
     * Promise (design: "it must run the guests written for that package unchanged"; guest-abi.md: topics are
     * (ptr, len) byte ranges). Broken: the host decodes every topic a guest names as UTF-8 with replacement, so two
     * different byte strings that are not valid UTF-8 become the same topic: a guest subscribed to the one-byte topic
     * 0xFF receives what another publishes to 0xFE (in tinywasm/wasi, Go strings compare bytes: it would not), and
     * on_topic_message hands it back "\xEF\xBF\xBD", bytes it never used.
     * Suspected cause: HostBuilder.topic (HostBuilder.java:139) uses new String(bytes, UTF_8). Fix: refuse a topic
     * that is not valid UTF-8 (a MEMORY-kind error naming the function), or carry topics as bytes.
     */
    @Test
    void topicsThatAreNotUtf8CollideIntoOneTopic() {
        server = new WasiServer(WasiConfig.builder().build());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.load("listener", Guests.wat("(module\n" + Guests.IMPORTS + """
                  (memory (export "memory") 1)
                  (data (i32.const 16) "\\ff")
                  (data (i32.const 32) "heard")
                  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
                  (func (export "init") (call $subscribe (i32.const 16) (i32.const 1) (i32.const 0)))
                  (func (export "on_message") (param $p i32) (param $l i32)
                    (call $publish (i32.const 32) (i32.const 5) (local.get $p) (local.get $l))))
                """))).isInstanceOf(WasiModuleException.class)
                .hasMessageContaining("module 'listener': subscribe: topic is not valid UTF-8");
        server.load("talker", Guests.onIn("", """
                  (data (i32.const 48) "\\fe")
                """, """
                    (call $publish (i32.const 48) (i32.const 1) (local.get $p) (local.get $l))
                """));
        Collector heard = new Collector();
        server.subscribe("heard", heard);
        Collector control = new Collector();
        server.subscribe("in", control);

        server.publish("in", "to 0xFE");
        control.awaitCount(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> info("talker").counters().delivered()
                + info("talker").counters().errors() == 1);
        try {
            // a correct host delivers nothing: this wait then runs out, and the assertions below pass
            await().atMost(Duration.ofSeconds(3)).until(() -> info("listener").counters().delivered() > 0);
        } catch (org.awaitility.core.ConditionTimeoutException expected) {
            // nothing crossed over
        }

        assertThat(info("listener").counters().delivered()).as("messages on topic 0xFE delivered to the subscriber of 0xFF")
                .isZero();
        assertThat(heard.texts()).isEmpty();
        // the talker's publish to a topic that is not UTF-8 failed: a guest error (MEMORY), not a trap
        ModuleCounters talker = info("talker").counters();
        assertThat(talker.errors()).isEqualTo(1);
        assertThat(talker.traps()).isZero();
        assertThat(talker.published()).isZero();
        assertThat(info("talker").lastError()).contains("publish: topic is not valid UTF-8");
    }
}
