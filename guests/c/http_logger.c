/*
 * http_logger: the Go original's example "logger" middleware (tinywasm/wasi example/modules/logger), in C. Deployed with
 * a rule.txt of "*" next to it (modules/<name>/rule.txt), it runs before every module's HTTP requests: it logs each one
 * and returns 0, so the pipeline goes on.
 */
#include <stdio.h>
#include "tinywasm.h"

TW_EXPORT("init") void init(void) { tw_log("logger middleware: ready"); }

TW_EXPORT("handle") uint32_t handle(const char *req, size_t len) {
    char line[160];
    int n = snprintf(line, sizeof line, "logger middleware: intercepting request %.*s", (int) (len > 120 ? 120 : len), req);
    for (int i = 0; i < n && i < (int) sizeof line; i++)
        if (line[i] == '\n') line[i] = ' ';
    tw_log(line);
    return 0; /* continue pipeline */
}

TW_EXPORT("drain") uint32_t drain(void) { return 0; }
