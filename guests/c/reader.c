/*
 * reader (test guest): each message on "read" names a file; the guest answers on "read.out" with the file's
 * first line, or "error: ..." when WASI refuses (no pre-opened directory covers the path, or it is missing).
 * Exercises WASI's file-system imports (path_open, fd_read) against tinywasm.wasi.preopened-dirs.
 */
#include <errno.h>
#include <stdio.h>
#include "tinywasm.h"

TW_EXPORT("init") void init(void) { tw_subscribe("read"); }

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    char path[256], line[256];
    if (len >= sizeof path) len = sizeof path - 1;
    memcpy(path, data, len);
    path[len] = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(line, sizeof line, "error: %s", strerror(errno));
    } else {
        if (!fgets(line, sizeof line, f)) snprintf(line, sizeof line, "error: empty");
        fclose(f);
        line[strcspn(line, "\n")] = 0;
    }
    tw_publish_str("read.out", line);
}
