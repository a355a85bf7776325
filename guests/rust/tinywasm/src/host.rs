//! What a module asks of the host: the imports of module `env`, behind safe functions.
//!
//! Every pointer handed to the host points into a live Rust slice or string, which the host only reads
//! during the call. Each import is declared on its own, so a module imports only the functions it calls.

mod sys {
    // rustc gives each of these a mangled symbol name and the import name "env"."<name>", so `log` here does
    // not clash with libm's `log` (which `f64::ln` links in).
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn publish(topic: *const u8, topic_len: usize, payload: *const u8, payload_len: usize);
        pub fn subscribe(topic: *const u8, topic_len: usize, handler_idx: i32);
        pub fn unsubscribe(topic: *const u8, topic_len: usize);
        pub fn ws_broadcast(topic: *const u8, topic_len: usize, payload: *const u8, payload_len: usize);
        pub fn log(message: *const u8, message_len: usize);
    }
}

/// Publishes `payload` on `topic`, to every subscriber: other modules and the application. Returns at once:
/// delivery is asynchronous, and never re-enters this module during the call.
pub fn publish(topic: &str, payload: impl AsRef<[u8]>) {
    let payload = payload.as_ref();
    // SAFETY: both slices are valid for reads during the call; the host copies them before returning.
    unsafe { sys::publish(topic.as_ptr(), topic.len(), payload.as_ptr(), payload.len()) }
}

/// Subscribes this module to `topic`: its messages arrive in [`Guest::on_message`](crate::Guest::on_message).
/// Works from any handler; subscriptions made before `init` returns form the module's topic set when the
/// host commits this version.
pub fn subscribe(topic: &str) {
    // SAFETY: as for `publish`. The handler index is reserved by the ABI and ignored.
    unsafe { sys::subscribe(topic.as_ptr(), topic.len(), 0) }
}

/// Stops this module's subscription to `topic`; messages already queued for it are dropped (and counted
/// by the host). An extension of the original ABI.
pub fn unsubscribe(topic: &str) {
    // SAFETY: as for `publish`.
    unsafe { sys::unsubscribe(topic.as_ptr(), topic.len()) }
}

/// Sends `payload` as one binary WebSocket frame to every client connected with `?topic=` `topic`.
pub fn ws_broadcast(topic: &str, payload: impl AsRef<[u8]>) {
    let payload = payload.as_ref();
    // SAFETY: as for `publish`.
    unsafe { sys::ws_broadcast(topic.as_ptr(), topic.len(), payload.as_ptr(), payload.len()) }
}

/// Writes one INFO line to the host's log, under this module's name. See also the [`log!`](crate::log!)
/// macro. (Standard output and error reach the log too, as INFO and WARN lines.)
pub fn log(message: &str) {
    // SAFETY: as for `publish`.
    unsafe { sys::log(message.as_ptr(), message.len()) }
}
