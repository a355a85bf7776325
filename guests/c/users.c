/*
 * users (sample app): a small stateful service. Requests on "users.requests" are "add NAME", "remove NAME"
 * or "list"; after each one the current roster goes to the browsers of /ws?topic=users and to the application
 * on "users.changed" (which the sample receives as a Spring ApplicationEvent). Its roster survives a swap or a
 * reload: state_save hands it to the new version's state_load as one name per line.
 */
#include <stdio.h>
#include "tinywasm.h"

#define MAX_USERS 64
#define MAX_NAME 32

static char users[MAX_USERS][MAX_NAME + 1];
static int count;

static int find(const char *name) {
    for (int i = 0; i < count; i++)
        if (strcmp(users[i], name) == 0) return i;
    return -1;
}

static void announce(const char *what) {
    char out[MAX_USERS * (MAX_NAME + 2) + 128];
    int n = snprintf(out, sizeof out, "%s | %d user%s:", what, count, count == 1 ? "" : "s");
    for (int i = 0; i < count && n < (int) sizeof out; i++)
        n += snprintf(out + n, sizeof out - (size_t) n, "%s %s", i ? "," : "", users[i]);
    if (n >= (int) sizeof out) n = sizeof out - 1;
    tw_ws_broadcast("users", out, (size_t) n);
    tw_publish("users.changed", out, (size_t) n);
}

TW_EXPORT("init") void init(void) { tw_subscribe("users.requests"); }

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    char req[80], name[MAX_NAME + 1] = "", what[96];
    if (len >= sizeof req) len = sizeof req - 1;
    memcpy(req, data, len);
    req[len] = 0;
    if (sscanf(req, "add %32s", name) == 1) {
        if (find(name) >= 0) snprintf(what, sizeof what, "%s is already here", name);
        else if (count == MAX_USERS) snprintf(what, sizeof what, "roster full");
        else { strcpy(users[count++], name); snprintf(what, sizeof what, "added %s", name); }
    } else if (sscanf(req, "remove %32s", name) == 1) {
        int i = find(name);
        if (i < 0) snprintf(what, sizeof what, "no user %s", name);
        else { users[i][0] = 0; strcpy(users[i], users[--count]); snprintf(what, sizeof what, "removed %s", name); }
    } else if (strcmp(req, "list") == 0) {
        snprintf(what, sizeof what, "list");
    } else {
        snprintf(what, sizeof what, "unknown request (use: add NAME, remove NAME, list)");
    }
    announce(what);
}

/* The roster, one name per line: a format the next version can read even if it changes its own layout. */
TW_EXPORT("state_save") uint64_t state_save(void) {
    static char saved[MAX_USERS * (MAX_NAME + 1)];
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(users[i]);
        memcpy(saved + n, users[i], len);
        saved[n + len] = '\n';
        n += len + 1;
    }
    return tw_state(saved, n);
}

TW_EXPORT("state_load") void state_load(const uint8_t *data, size_t len) {
    count = 0;
    size_t start = 0;
    for (size_t i = 0; i < len && count < MAX_USERS; i++) {
        if (data[i] != '\n') continue;
        size_t n = i - start;
        if (n > 0 && n <= MAX_NAME) {
            memcpy(users[count], data + start, n);
            users[count++][n] = 0;
        }
        start = i + 1;
    }
}
