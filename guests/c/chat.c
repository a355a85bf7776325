/*
 * chat (sample app): every line posted to "chat.in" is numbered and fanned out to the browsers connected
 * to /ws?topic=chat, and handed to the logger on "chat.log".
 *
 * Try a live swap: change STYLE below, run guests/build.sh, and watch the open page keep going.
 */
#include <stdio.h>
#include "tinywasm.h"

#ifndef STYLE
#define STYLE ""
#endif

static unsigned long seq;

TW_EXPORT("init") void init(void) {
    tw_subscribe("chat.in");
    tw_log("chat ready (style \"" STYLE "\")");
}

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    char line[600];
    if (len > 512) len = 512;
    int n = snprintf(line, sizeof line, "#%lu %s%.*s", ++seq, STYLE, (int) len, (const char *) data);
    if (n < 0) return;
    if (n >= (int) sizeof line) n = sizeof line - 1;
    tw_ws_broadcast("chat", line, (size_t) n);
    tw_publish("chat.log", line, (size_t) n);
}
