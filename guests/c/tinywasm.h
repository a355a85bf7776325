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
 *     state_save() -> uint64_t                    during a swap: the state to carry, as tw_state(ptr, len)
 *     state_load(data, len)                       during a swap, before init: the state the old version saved
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
#include <strings.h>

#define TW_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define TW_EXPORT(name) __attribute__((export_name(name)))

/* Raw imports of module "env": pointers and lengths into this guest's memory. */
TW_IMPORT("publish") void tw_publish_raw(const char *topic, size_t topic_len, const void *payload, size_t payload_len);
TW_IMPORT("subscribe") void tw_subscribe_raw(const char *topic, size_t topic_len, int32_t handler_idx);
TW_IMPORT("ws_broadcast") void tw_ws_broadcast_raw(const char *topic, size_t topic_len, const void *payload, size_t payload_len);
TW_IMPORT("log") void tw_log_raw(const char *msg, size_t msg_len);

/* Publish `len` bytes on `topic` to every subscriber (guests and Java). */
/*
 * State hand-off: return tw_state(buf, len) from state_save; the bytes must stay valid until the call returns (a
 * static buffer will do). The new version's state_load(data, len) gets a copy, freed by the host after it returns.
 */
static inline uint64_t tw_state(const void *ptr, size_t len) {
    return ((uint64_t) (uintptr_t) ptr << 32) | (uint32_t) len;
}

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

/* ---- HTTP to guests --------------------------------------------------------------------------------------------
 *
 * A module answers HTTP requests to /m/<name>/... in one of two ways (docs/guest-abi.md, "HTTP"):
 *
 * Compatible mode (the Go original's): export handle(req_ptr, req_len) -> resp_ptr. The request is "METHOD\nPATH\n"
 * (in a buffer from malloc, freed by the host after the call); return a NUL-terminated reply (at most 64 KiB, kept
 * alive by you: a static buffer) for a 200, or 0 for a 204 (a middleware: 0 = go on).
 *
 *     TW_EXPORT("handle") const char *handle(const char *req, size_t len) { return "hello\n"; }
 *
 * Extended mode: define a handler with TW_HTTP_HANDLER and use the tw_http_* functions below while it runs. Return 1
 * when you answered (status 200 unless set), 0 when not (a target: 204; a middleware: the request goes on, with the
 * headers you set for the modules after you).
 *
 *     TW_HTTP_HANDLER(serve) {
 *         const char *user = tw_http_request_header("X-User");
 *         tw_http_response_header("Content-Type", "text/plain");
 *         tw_http_response_write_str(user ? user : "nobody");
 *         return 1;
 *     }
 *
 * The imports below become imports of your module only if you call them: a guest that does not use HTTP imports
 * nothing new.
 */
TW_IMPORT("http_request_head") int32_t tw_http_request_head_raw(char *buf, size_t cap);
TW_IMPORT("http_request_body") int32_t tw_http_request_body_raw(void *buf, size_t cap, size_t offset);
TW_IMPORT("http_request_set_header") void tw_http_request_set_header_raw(const char *name, size_t name_len, const char *value, size_t value_len);
TW_IMPORT("http_response_status") void tw_http_response_status_raw(int32_t code);
TW_IMPORT("http_response_header") void tw_http_response_header_raw(const char *name, size_t name_len, const char *value, size_t value_len);
TW_IMPORT("http_response_write") void tw_http_response_write_raw(const void *data, size_t len);

/* The request of the handler running now, read from the host once (by the first tw_http_request_* call). */
static struct {
    char *head;              /* the request head, split in place into NUL-terminated parts */
    const char *method, *target, *query;
    char *path;
    uint8_t *body;
    size_t body_len;
    int body_read;
} tw__http;

static inline void tw__http_reset(void) {
    free(tw__http.head);
    free(tw__http.path);
    free(tw__http.body);
    memset(&tw__http, 0, sizeof tw__http);
}

static inline int tw__http_parse(void) {
    if (tw__http.head) return 1;
    int32_t len = tw_http_request_head_raw(NULL, 0);          /* the length; nothing written */
    char *head = malloc((size_t) len + 1);
    if (!head || tw_http_request_head_raw(head, (size_t) len) != len) { free(head); return 0; }
    head[len] = 0;
    for (char *p = head; (p = strstr(p, "\r\n")) != NULL; p += 2) *p = 0;   /* each line ends with a NUL */
    char *sp = strchr(head, ' ');
    if (!sp) { free(head); return 0; }
    *sp = 0;
    char *target = sp + 1;
    sp = strchr(target, ' ');
    if (sp) *sp = 0;                                          /* cut " HTTP/1.1" */
    char *q = strchr(target, '?');
    size_t path_len = q ? (size_t) (q - target) : strlen(target);
    tw__http.path = malloc(path_len + 1);
    if (!tw__http.path) { free(head); return 0; }
    memcpy(tw__http.path, target, path_len);
    tw__http.path[path_len] = 0;
    tw__http.head = head;
    tw__http.method = head;
    tw__http.target = target;
    tw__http.query = q ? q + 1 : "";
    return 1;
}

/* The method ("GET"), the target as sent ("/m/users/42?full=1"), its path ("/m/users/42", still percent-encoded)
 * and its query ("full=1", or ""). Valid until the handler returns. */
static inline const char *tw_http_request_method(void) { return tw__http_parse() ? tw__http.method : ""; }
static inline const char *tw_http_request_target(void) { return tw__http_parse() ? tw__http.target : ""; }
static inline const char *tw_http_request_path(void) { return tw__http_parse() ? tw__http.path : ""; }
static inline const char *tw_http_request_query(void) { return tw__http_parse() ? tw__http.query : ""; }

/* The value of the first header called `name` (any case), or NULL. Valid until the handler returns. */
static inline const char *tw_http_request_header(const char *name) {
    if (!tw__http_parse()) return NULL;
    size_t n = strlen(name);
    const char *line = tw__http.target + strlen(tw__http.target) + 1;  /* after the request line */
    line += strlen(line) + 2;                                         /* skip "HTTP/1.1" and its NUL + '\n' */
    while (*line) {
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') return line[n + 1] == ' ' ? line + n + 2 : line + n + 1;
        line += strlen(line) + 2;
    }
    return NULL;
}

/* Copies up to `cap` bytes of the body from `offset` into `buf`; returns how many (0 at the end). For large bodies. */
static inline size_t tw_http_request_body_read(void *buf, size_t cap, size_t offset) {
    return (size_t) tw_http_request_body_raw(buf, cap, offset);
}

/* The whole body: sets *data (valid until the handler returns) and returns its length. */
static inline size_t tw_http_request_body(const uint8_t **data) {
    if (!tw__http.body_read) {
        size_t cap = 4096, len = 0;
        uint8_t *body = malloc(cap);
        for (size_t n; body && (n = tw_http_request_body_read(body + len, cap - len, len)) > 0; ) {
            len += n;
            if (len == cap) {
                uint8_t *more = realloc(body, cap *= 2);
                if (!more) { free(body); body = NULL; len = 0; }
                body = more;
            }
        }
        tw__http.body = body;
        tw__http.body_len = len;
        tw__http.body_read = 1;
    }
    *data = tw__http.body;
    return tw__http.body_len;
}

/* A middleware passes data on: the modules after it see `name: value` instead of any `name` header the client sent. */
static inline void tw_http_request_set_header(const char *name, const char *value) {
    tw_http_request_set_header_raw(name, strlen(name), value, strlen(value));
}

/* The response: status (default 200), headers (not hop-by-hop ones, not Content-Length), body bytes (appended). */
static inline void tw_http_response_status(int code) { tw_http_response_status_raw(code); }
static inline void tw_http_response_header(const char *name, const char *value) {
    tw_http_response_header_raw(name, strlen(name), value, strlen(value));
}
static inline void tw_http_response_write(const void *data, size_t len) { tw_http_response_write_raw(data, len); }
static inline void tw_http_response_write_str(const char *text) { tw_http_response_write_raw(text, strlen(text)); }

/* Answers at once: status, content type (NULL: none) and body; returns 1, what a handler that answered returns. */
static inline int tw_http_reply(int code, const char *content_type, const void *body, size_t len) {
    tw_http_response_status(code);
    if (content_type) tw_http_response_header("Content-Type", content_type);
    tw_http_response_write(body, len);
    return 1;
}

/* Defines the extended-mode handler: `TW_HTTP_HANDLER(serve) { ... return 1; }` exports it as handle_http. */
#define TW_HTTP_HANDLER(fn)                                                       \
    static int fn(void);                                                          \
    TW_EXPORT("handle_http") int tw_export_handle_http(void) {                    \
        tw__http_reset();                                                         \
        int answered = fn();                                                      \
        tw__http_reset();                                                         \
        return answered;                                                          \
    }                                                                             \
    static int fn(void)

#ifndef TINYWASM_NO_ALLOCATOR
/* The host calls these to place a delivered payload, and frees it after on_message returns. */
TW_EXPORT("malloc") void *tw_export_malloc(size_t size) { return malloc(size ? size : 1); }
TW_EXPORT("free") void tw_export_free(void *ptr) { free(ptr); }
#endif

#endif /* TINYWASM_H */
