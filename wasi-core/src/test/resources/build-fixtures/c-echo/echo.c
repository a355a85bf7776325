/* echo (test guest of the guest builds): each message on "c.in" goes back on "c.out" after PREFIX. */
#include "tinywasm.h"

#define PREFIX "v1:"

TW_EXPORT("init") void init(void) {
    tw_subscribe("c.in");
}

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
    char out[256];
    size_t n = strlen(PREFIX);
    memcpy(out, PREFIX, n);
    if (len > sizeof out - n) len = sizeof out - n;
    memcpy(out + n, data, len);
    tw_publish("c.out", out, n + len);
}
