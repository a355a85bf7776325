/*
 * trapper: a test guest whose trap leaves the shadow stack in use. On "trap" it fills a 4 KiB buffer on the
 * (LLVM) shadow stack and then traps; on anything else it publishes "ok:<n>" on "trapper.out", n counting the
 * messages that did not trap. A host that does not reset the stack pointer after a trap runs out of stack after
 * about 16 traps (64 KiB of stack).
 */
#include "tinywasm.h"
#include <stdio.h>

static int ok;

__attribute__((noinline)) static void fill_and_trap(const uint8_t *data, size_t len) {
    volatile char buf[4096];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(len ? data[i % len] : 0);
    if (buf[0] == 't') __builtin_trap();
}

TW_EXPORT("init") void init(void) { tw_subscribe("trapper.in"); }

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    if (len >= 4 && memcmp(data, "trap", 4) == 0) fill_and_trap(data, len);
    char reply[32];
    int n = snprintf(reply, sizeof reply, "ok:%d", ++ok);
    tw_publish("trapper.out", reply, (size_t)n);
}
