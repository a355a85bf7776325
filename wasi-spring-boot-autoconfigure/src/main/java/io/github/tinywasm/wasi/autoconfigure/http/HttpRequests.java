package io.github.tinywasm.wasi.autoconfigure.http;

import io.github.tinywasm.wasi.http.GuestHttpDispatcher;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import java.nio.charset.StandardCharsets;
import org.springframework.web.util.UriUtils;

/** What both web stacks' handlers do alike: the module a path names, and the host's 413. */
final class HttpRequests {

    private HttpRequests() {}

    /** The decoded path within the application: what a compatible guest receives, and what names the module. */
    static String decodedPath(String encodedPathWithinApplication) {
        return UriUtils.decode(encodedPathWithinApplication, StandardCharsets.UTF_8);
    }

    /** The module named by {@code path} under {@code basePath} ({@code ""} when none). */
    static String module(String path, String basePath) {
        String module = GuestHttpDispatcher.moduleName(path, basePath);
        return module != null ? module : "";
    }

    /** The value of the {@code tinywasm.module} key for a request to {@code module}. */
    static String tag(GuestHttpDispatcher dispatcher, String module) {
        return !module.isEmpty() && dispatcher.isLoaded(module) ? module : GuestHttpObservations.NONE;
    }

    /** 413, answered before the body is read (past its announced length) or once it grows past the maximum. */
    static GuestHttpResponse tooLarge(GuestHttpDispatcher dispatcher, String what, String module) {
        return GuestHttpResponse.error(413, "request body of " + what + " is larger than the maximum request size of "
                + dispatcher.maxRequestSize() + " bytes", dispatcher.isLoaded(module) ? module : null);
    }
}
