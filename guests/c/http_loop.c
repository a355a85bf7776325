/*
 * http_loop: an HTTP handler that never returns (until the host's call timeout interrupts it: 504). A path ending in
 * "/ok" answers at once, so the module is seen to keep serving after each interrupted call.
 */
#include "tinywasm.h"

static volatile uint64_t spins;

TW_HTTP_HANDLER(spin) {
    const char *path = tw_http_request_path();
    size_t n = strlen(path);
    if (n >= 3 && strcmp(path + n - 3, "/ok") == 0) {
        return tw_http_reply(200, "text/plain;charset=UTF-8", "ok", 2);
    }
    for (;;) spins++;
}
