/*
 * http_auth: an extended-mode middleware. A request without "Authorization: Bearer <user>" is answered 401 here (the
 * pipeline ends); one with it goes on, carrying "X-User: <user>" for the modules after this one (whatever X-User the
 * client sent is replaced).
 */
#include "tinywasm.h"

TW_HTTP_HANDLER(authenticate) {
    const char *auth = tw_http_request_header("Authorization");
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || auth[7] == 0) {
        tw_http_response_header("WWW-Authenticate", "Bearer");
        return tw_http_reply(401, "text/plain;charset=UTF-8", "unauthorized\n", 13);
    }
    tw_http_request_set_header("X-User", auth + 7);
    return 0; /* go on */
}
