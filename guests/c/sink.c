/*
 * sink: the benchmark guest. Subscribes to "bench" and folds every payload byte into a checksum, so that
 * each delivery really reads the bytes the host placed in its memory (malloc, write, on_message, free).
 */
#include "tinywasm.h"

static uint64_t checksum;
static uint64_t messages;

TW_EXPORT("init") void init(void) { tw_subscribe("bench"); }

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    uint64_t h = checksum;
    for (size_t i = 0; i < len; i++) h = h * 31 + data[i];
    checksum = h;
    messages++;
}

TW_EXPORT("messages") uint64_t messages_seen(void) { return messages; }
