/*
 * http_users: the original's compatible HTTP mode. handle() receives "METHOD\nPATH\n" and returns a NUL-terminated
 * reply (a static buffer, which stays valid after the call): "users: GET /m/users/42". A path ending in "/empty"
 * returns 0 (204). Built a second time as http_users-v2, which replies "users v2: ..." (for the swap tests).
 */
#include <stdio.h>
#include "tinywasm.h"

#ifndef VERSION
#define VERSION "users"
#endif

static char reply[512];

TW_EXPORT("handle") const char *handle(const char *req, size_t len) {
    const char *nl = memchr(req, '\n', len);
    if (!nl) return "bad request";
    size_t method_len = (size_t) (nl - req);
    const char *path = nl + 1;
    size_t path_len = len - method_len - 2; /* without the final '\n' */
    if (path_len >= 6 && memcmp(path + path_len - 6, "/empty", 6) == 0) return 0;
    snprintf(reply, sizeof reply, VERSION ": %.*s %.*s", (int) method_len, req, (int) path_len, path);
    return reply;
}
