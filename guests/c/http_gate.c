/*
 * http_gate: proves that a pooled module answers in parallel, without timing. Each request (?id=ID&n=N) marks itself
 * inside by creating /gate/ID (a host folder pre-opened for the module), then waits until N requests are inside, i.e.
 * until /gate holds N files, and answers 200 "N inside". Instances share nothing but that folder: with fewer than N
 * instances answering at once, no request ever sees N files, and each ends at the call timeout (504).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tinywasm.h"

static int param(const char *query, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t len = strcspn(p + n + 1, "&");
            if (len >= cap) len = cap - 1;
            memcpy(out, p + n + 1, len);
            out[len] = 0;
            return 1;
        }
    }
    return 0;
}

static int inside(void) {
    DIR *dir = opendir("/gate");
    if (!dir) return -1;
    int count = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL; )
        if (e->d_name[0] != '.') count++;
    closedir(dir);
    return count;
}

TW_HTTP_HANDLER(gate) {
    char id[64], n[16], file[96];
    const char *query = tw_http_request_query();
    if (!param(query, "id", id, sizeof id) || !param(query, "n", n, sizeof n))
        return tw_http_reply(400, "text/plain;charset=UTF-8", "need ?id=ID&n=N\n", 16);
    snprintf(file, sizeof file, "/gate/%s", id);
    int fd = open(file, O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return tw_http_reply(500, "text/plain;charset=UTF-8", "cannot create the mark\n", 23);
    close(fd);
    int want = atoi(n), seen;
    while ((seen = inside()) >= 0 && seen < want) { }
    char body[32];
    int len = snprintf(body, sizeof body, "%d inside", seen);
    return tw_http_reply(200, "text/plain;charset=UTF-8", body, (size_t) len);
}
