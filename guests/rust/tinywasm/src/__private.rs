//! Support for the exports [`guest!`](crate::guest!) generates. Not part of the API: only the macro calls it.

use crate::guest::{Guest, Message, State};
use crate::http::{Http, Request};
use std::cell::UnsafeCell;

/// The module's [`Guest`] value, created on first use.
///
/// Not a `RefCell`: a panic traps without unwinding, so a borrow flag would stay set and every later call
/// would fail; the host goes on calling the instance after a trap, and the state stays as the panic left it
/// (as a C guest's globals do).
pub struct Slot<T>(UnsafeCell<Option<T>>);

// SAFETY: a tinywasm guest is single-threaded (`lib.rs` refuses `target_feature = "atomics"`), and the host
// never runs two calls into one instance at once.
unsafe impl<T> Sync for Slot<T> {}

impl<T> Slot<T> {
    /// An empty slot, for a `static`.
    pub const fn new() -> Self {
        Slot(UnsafeCell::new(None))
    }
}

impl<T: Guest> Slot<T> {
    /// # Safety
    /// No other reference to the value may be live: call only from an export, which the host never nests.
    unsafe fn get(&'static self) -> &'static mut T {
        (*self.0.get()).get_or_insert_with(T::default)
    }
}

/// # Safety
/// The caller is an `init` export called by the host (see [`Slot::get`]).
pub unsafe fn init<T: Guest>(slot: &'static Slot<T>) {
    slot.get().init();
}

/// # Safety
/// The caller is an `on_message` export called by the host, which wrote `len` bytes at `ptr`.
pub unsafe fn on_message<T: Guest>(slot: &'static Slot<T>, ptr: *const u8, len: usize) {
    let payload = bytes(ptr, len);
    slot.get().on_message(Message::new("", payload));
}

/// # Safety
/// The caller is an `on_topic_message` export called by the host, which wrote the topic's `topic_len` bytes
/// at `topic` and the payload's `len` bytes at `ptr`.
pub unsafe fn on_topic_message<T: Guest>(
    slot: &'static Slot<T>,
    topic: *const u8,
    topic_len: usize,
    ptr: *const u8,
    len: usize,
) {
    let topic = match std::str::from_utf8(bytes(topic, topic_len)) {
        Ok(topic) => topic,
        Err(e) => panic!("the host passed a topic that is not UTF-8: {}", e),
    };
    let payload = bytes(ptr, len);
    slot.get().on_message(Message::new(topic, payload));
}

/// # Safety
/// The caller is a `drain` export called by the host (see [`Slot::get`]).
pub unsafe fn drain<T: Guest>(slot: &'static Slot<T>) -> i32 {
    slot.get().drain().to_abi()
}

/// # Safety
/// The caller is a `state_save` export called by the host (see [`Slot::get`]).
pub unsafe fn state_save<T: State>(slot: &'static Slot<T>) -> u64 {
    let state = slot.get().save();
    // The host reads the bytes after we return, and then closes this instance: leaking them is what keeps them
    // valid, and costs nothing that outlives the instance.
    let state: &'static [u8] = Box::leak(state.into_boxed_slice());
    ((state.as_ptr() as usize as u64) << 32) | state.len() as u64
}

/// # Safety
/// The caller is a `state_load` export called by the host, which wrote `len` bytes at `ptr`.
pub unsafe fn state_load<T: State>(slot: &'static Slot<T>, ptr: *const u8, len: usize) {
    slot.get().load(bytes(ptr, len));
}

/// # Safety
/// The caller is a `handle_http` export called by the host (see [`Slot::get`]).
pub unsafe fn handle_http<T: Http>(slot: &'static Slot<T>) -> i32 {
    let mut request = Request::read();
    match slot.get().handle_http(&mut request) {
        Some(response) => {
            response.send();
            1
        }
        None => 0,
    }
}

/// # Safety
/// `len` bytes at `ptr` are readable for the rest of the call (any `ptr` when `len` is 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

// The module's reactor entry point (wasi-libc's crt1-reactor.o does the same): run the static constructors
// (wasi-libc's, such as the pre-opened directories) once, before the host's first call. Defining it here
// spares every guest a link argument naming the toolchain's crt1-reactor.o.
extern "C" {
    fn __wasm_call_ctors();
}

#[export_name = "_initialize"]
extern "C" fn initialize() {
    // SAFETY: the linker defines `__wasm_call_ctors`; the host calls `_initialize` once, first.
    unsafe { __wasm_call_ctors() }
}
