/*
 * http_echo: extended mode, binary-safe. Answers the request body unchanged (any size up to the limits, read and written
 * in 64 KiB chunks), typed as the request was, with what it saw of the request in headers: X-Method, X-Target (with
 * the query), X-User (set by a middleware before it), X-Body-Length. Status 200, or ?status=NNN.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tinywasm.h"

static uint8_t chunk[65536];

TW_HTTP_HANDLER(echo) {
    const char *query = tw_http_request_query();
    const char *status = strstr(query, "status=");
    tw_http_response_status(status ? atoi(status + 7) : 200);
    tw_http_response_header("X-Method", tw_http_request_method());
    tw_http_response_header("X-Target", tw_http_request_target());
    const char *user = tw_http_request_header("X-User");
    if (user) tw_http_response_header("X-User", user);
    const char *type = tw_http_request_header("Content-Type");
    tw_http_response_header("Content-Type", type ? type : "application/octet-stream");
    size_t total = 0;
    for (size_t n; (n = tw_http_request_body_read(chunk, sizeof chunk, total)) > 0; total += n)
        tw_http_response_write(chunk, n);
    char length[24];
    snprintf(length, sizeof length, "%zu", total);
    tw_http_response_header("X-Body-Length", length);
    return 1;
}
