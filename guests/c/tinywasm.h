/*
 * tinywasm.h - guest side of tinywasm-wasi's guest ABI v1, for C guests built with clang for wasm32-wasi.
 *
 * Include it in exactly one .c file of your guest (it defines the exported allocator), then define the
 * exports you need:
 *
 *     #include "tinywasm.h"
 *     TW_EXPORT("init") void init(void) { tw_subscribe("greetings"); }
 *     TW_EXPORT("on_message") void on_message(const uint8_t *data, size_t len) {
 *         tw_publish("replies", data, len);
 *     }
 *
 * Build as a WASI reactor:  clang --target=wasm32-wasi -O2 -mexec-model=reactor -o guest.wasm guest.c
 *
 * Exports a guest may define (all optional except the memory, which clang exports for you):
 *     init()                                      called once after load; subscribe here
 *     on_message(data, len)                       a message on a subscribed topic
 *     on_topic_message(topic, topic_len, data, len)  the same with its topic (extension; preferred if present)
 *     drain() -> int                              during swap/shutdown: 0 = idle, N = ask again in N ms
 *
 * Memory: the host places each delivered payload in a buffer from malloc() and, because this header exports
 * free(), frees it after on_message returns: do not keep or free `data`; copy what you need.
 * Define TINYWASM_NO_ALLOCATOR before including to export your own malloc/free instead.
 */
#ifndef TINYWASM_H
#define TINYWASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TW_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define TW_EXPORT(name) __attribute__((export_name(name)))

/* Raw imports of module "env": pointers and lengths into this guest's memory. */
TW_IMPORT("publish") void tw_publish_raw(const char *topic, size_t topic_len, const void *payload, size_t payload_len);
TW_IMPORT("subscribe") void tw_subscribe_raw(const char *topic, size_t topic_len, int32_t handler_idx);
TW_IMPORT("ws_broadcast") void tw_ws_broadcast_raw(const char *topic, size_t topic_len, const void *payload, size_t payload_len);
TW_IMPORT("log") void tw_log_raw(const char *msg, size_t msg_len);

/* Publish `len` bytes on `topic` to every subscriber (guests and Java). */
static inline void tw_publish(const char *topic, const void *data, size_t len) {
    tw_publish_raw(topic, strlen(topic), data, len);
}

/* Publish a NUL-terminated string (without its NUL). */
static inline void tw_publish_str(const char *topic, const char *text) {
    tw_publish_raw(topic, strlen(topic), text, strlen(text));
}

/* Subscribe this module to `topic`; messages arrive in on_message. Call from init (or any export). */
static inline void tw_subscribe(const char *topic) {
    tw_subscribe_raw(topic, strlen(topic), 0);
}

/* Send `len` bytes as one binary frame to every WebSocket client connected with ?topic=`topic`. */
static inline void tw_ws_broadcast(const char *topic, const void *data, size_t len) {
    tw_ws_broadcast_raw(topic, strlen(topic), data, len);
}

/* One line in the host's log, attributed to this module. */
static inline void tw_log(const char *msg) {
    tw_log_raw(msg, strlen(msg));
}

#ifndef TINYWASM_NO_ALLOCATOR
/* The host calls these to place a delivered payload, and frees it after on_message returns. */
TW_EXPORT("malloc") void *tw_export_malloc(size_t size) { return malloc(size ? size : 1); }
TW_EXPORT("free") void tw_export_free(void *ptr) { free(ptr); }
#endif

#endif /* TINYWASM_H */
