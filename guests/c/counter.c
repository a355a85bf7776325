/*
 * counter: subscribes to "numbers"; for each message prints it to stdout (WASI fd_write), keeps a running
 * count, and publishes "<count>:<payload>" on "counted". Exercises real WASI imports (fd_write, clocks via
 * libc start-up) next to the env ABI.
 */
#include <stdio.h>
#include "tinywasm.h"

static unsigned long count;

TW_EXPORT("init") void init(void) {
    tw_subscribe("numbers");
    tw_log("counter ready");
    printf("counter: started\n");
    fflush(stdout);
}

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    char out[256];
    count++;
    int n = snprintf(out, sizeof out, "%lu:%.*s", count, (int) len, (const char *) data);
    if (n > (int) sizeof out - 1) n = sizeof out - 1;
    printf("counter got %.*s\n", (int) len, (const char *) data);
    fflush(stdout);
    tw_publish("counted", out, (size_t) n);
}
