package io.github.tinywasm.wasi.sample;

import io.github.tinywasm.wasi.ModuleInfo;
import io.github.tinywasm.wasi.WasiServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The page's hot-swap demo: deploys the other version of the chat module ({@code chat-v1.wasm} or
 * {@code chat-v2.wasm} from {@code sample.versions-dir}, put there by {@code guests/build.sh}) into the modules
 * folder the way a deploy should, by writing beside and renaming over. The host's watcher does the rest, exactly
 * as for a file copied by hand. Only the app's own file watching swaps the module: this class never calls the
 * engine to load anything.
 * <p>
 * Thread-safety: {@link #swap()} is synchronized so two clicks deploy one version after the other.
 */
@Component
class ChatSwapDemo {

    private static final Logger log = LoggerFactory.getLogger(ChatSwapDemo.class);

    /** What was deployed: the labels of the versions before and after. */
    record Swap(String from, String to) {}

    private final WasiServer server;
    private final Path versions;

    ChatSwapDemo(WasiServer server, @Value("${sample.versions-dir:versions}") Path versions) {
        this.server = server;
        this.versions = versions;
    }

    synchronized Swap swap() {
        Path modules = server.config().modulesDir();
        if (modules == null || !server.config().watch()) {
            throw new IllegalStateException("the swap demo needs a watched modules folder (tinywasm.wasi.modules-dir, watch: true)");
        }
        Path v1 = versions.resolve("chat-v1.wasm");
        Path v2 = versions.resolve("chat-v2.wasm");
        if (!Files.isRegularFile(v1) || !Files.isRegularFile(v2)) {
            throw new IllegalStateException("chat-v1.wasm and chat-v2.wasm are missing in " + versions.toAbsolutePath()
                    + ": run guests/build.sh");
        }
        String serving = server.module("chat").map(ModuleInfo::sha256).orElse("");
        boolean onV2 = sha256(v2).equals(serving);
        Path next = onV2 ? v1 : v2;
        Swap swap = new Swap(onV2 ? "v2" : "v1", onV2 ? "v1" : "v2");
        try {
            Path tmp = modules.resolve(".chat.wasm.tmp");
            Files.copy(next, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, modules.resolve("chat.wasm"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("could not deploy " + next + " into " + modules, e);
        }
        log.info("[chat] swap demo: deployed {} over {}", swap.to(), swap.from());
        return swap;
    }

    private static String sha256(Path file) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
