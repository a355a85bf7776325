/*
 * fanout: the WebSocket fan-out benchmark guest. Every message on "fan-in" is broadcast, unchanged, to the
 * WebSocket clients of topic "fan".
 */
#include "tinywasm.h"

TW_EXPORT("init") void init(void) { tw_subscribe("fan-in"); }

TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) { tw_ws_broadcast("fan", data, len); }
