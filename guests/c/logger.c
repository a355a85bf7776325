/*
 * logger (sample app): writes everything published on "chat.log" and "users.changed" to its stdout, which
 * the host turns into log lines under the module's name. Uses the on_topic_message extension to know which
 * topic each message came from.
 */
#include <stdio.h>
#include "tinywasm.h"

TW_EXPORT("init") void init(void) {
    tw_subscribe("chat.log");
    tw_subscribe("users.changed");
}

TW_EXPORT("on_topic_message")
void on_topic_message(const char *topic, size_t topic_len, const uint8_t *data, size_t len) {
    printf("[%.*s] %.*s\n", (int) topic_len, topic, (int) len, (const char *) data);
    fflush(stdout);
}
