//! Guest side of tinywasm-wasi's guest ABI v1 for Rust: safe functions for what a module asks of the host
//! ([`publish`], [`subscribe`], [`unsubscribe`], [`ws_broadcast`], [`log`]) and a trait, [`Guest`], for what
//! the host asks of the module (`init`, each message, `drain`), exported by the [`guest!`] macro. A guest
//! written with it has no `unsafe` and no pointer arithmetic.
//!
//! ```ignore
//! use tinywasm::{Guest, Message};
//!
//! #[derive(Default)]
//! struct Greeter {
//!     greeted: u64,
//! }
//!
//! impl Guest for Greeter {
//!     fn init(&mut self) {
//!         tinywasm::subscribe("greetings");
//!     }
//!
//!     fn on_message(&mut self, message: Message<'_>) {
//!         self.greeted += 1;
//!         tinywasm::publish("replies", message.payload());
//!         tinywasm::log!("greeted {} times", self.greeted);
//!     }
//! }
//!
//! tinywasm::guest!(Greeter);
//! ```
//!
//! # Building
//!
//! A guest is a `cdylib` crate built for `wasm32-wasi` that exports wasi-libc's `malloc` and `free`
//! (`-C link-arg=--export=malloc -C link-arg=--export=free`; `guests/rust/.cargo/config.toml` sets them for
//! every crate of that workspace). This crate exports `_initialize`, so the module is a WASI reactor: do not
//! link `crt1-reactor.o` as well.
//!
//! # Memory
//!
//! The host copies each message into buffers it gets from the module's `malloc` and frees them after the
//! handler returns, so a [`Message`] borrows them for the call only (the borrow checker enforces it): copy
//! what you keep. The functions that send (`publish`, ...) only read their arguments during the call.
//!
//! # Panics
//!
//! A panic prints its message to stderr (the host logs it as a WARN line of the module) and traps: the host
//! counts the message as the module's error and goes on with the next one, with the guest's state as the
//! panic left it. Keep panics for bugs and use `Result` otherwise: a trap never unwinds, so the runtime takes
//! later panics for nested ones (from the third on it prints only "thread panicked while processing panic"),
//! and each trap leaves the stack pointer where the trap happened.
//!
//! # State across a hot swap
//! A new version of a module starts from a new value ([`Default`]) unless both versions opt in to [`State`]
//! with `tinywasm::guest!(T, state)`: then the host asks the old version for its state after it drained
//! ([`State::save`]) and gives it to the new one before its `init` ([`State::load`]). Use a format the next
//! version can read. A panic in either fails the swap: the old version keeps serving.
//! # HTTP
//!
//! A module answers HTTP requests to `/m/<name>/...` by implementing [`Http`] as well and exporting both with
//! `tinywasm::guest!(T, http)`: see the [`http`] module.
//!
//! # Growing with the ABI
//!
//! A function of this crate becomes an import of a module only when the module calls it, so functions for
//! newer host features can be added here without changing what existing guests import. Their handlers come as
//! further traits, enabled by optional clauses of [`guest!`] (`guest!(Api, http)` for [`Http`]), so `guest!(T)`
//! keeps meaning exactly what it meant: a module that does not opt in imports and exports nothing new.

#![warn(missing_docs)]

#[cfg(not(target_arch = "wasm32"))]
compile_error!("tinywasm guests are WebAssembly modules: build them with --target wasm32-wasi");

#[cfg(target_feature = "atomics")]
compile_error!("tinywasm guests are single-threaded: the host never calls into one instance from two threads");

mod guest;
mod host;
pub mod http;

#[doc(hidden)]
pub mod __private;

pub use guest::{Drain, Guest, Message, State};
pub use http::Http;
pub use host::{log, publish, subscribe, unsubscribe, ws_broadcast};

/// Writes one INFO line to the host's log, attributed to this module, with `format!` syntax:
/// `tinywasm::log!("{} users", n)`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log(&::std::format!($($arg)*))
    };
}

/// Exports a [`Guest`] type as this module's handlers: `init`, `on_message`, `on_topic_message` (the host
/// prefers it: it passes the topic) and `drain`. Use it once per module, at the crate's top level:
/// `tinywasm::guest!(Chat);`. Optional clauses export more, for a type that implements the matching trait too:
/// `http` exports `handle_http` ([`Http`]), `state` exports `state_save` and `state_load` ([`State`]):
/// `tinywasm::guest!(Api, http, state)`.
///
/// The value is created with [`Default`] when the host first calls the module and lives as long as the
/// instance. Calls never overlap, so handlers get `&mut self` and need no locks.
#[macro_export]
macro_rules! guest {
    (@feature http $slot:ident) => {
        #[export_name = "handle_http"]
        extern "C" fn __tinywasm_handle_http() -> i32 {
            // SAFETY: as for `init`; the host calls it with a request in flight.
            unsafe { $crate::__private::handle_http(&$slot) }
        }
    };
    (@feature state $slot:ident) => {
        #[export_name = "state_save"]
        extern "C" fn __tinywasm_state_save() -> u64 {
            // SAFETY: as for `init`; the host calls it on the old version, after it drained.
            unsafe { $crate::__private::state_save(&$slot) }
        }

        #[export_name = "state_load"]
        extern "C" fn __tinywasm_state_load(ptr: *const u8, len: usize) {
            // SAFETY: as for `init`; the host wrote `len` bytes at `ptr` and keeps them until we return.
            unsafe { $crate::__private::state_load(&$slot, ptr, len) }
        }
    };
    ($guest:ty $(, $feature:ident)* $(,)?) => {
        const _: () = {
            static GUEST: $crate::__private::Slot<$guest> = $crate::__private::Slot::new();

            #[export_name = "init"]
            extern "C" fn __tinywasm_init() {
                // SAFETY: only the host calls this export, never while another call into the instance runs.
                unsafe { $crate::__private::init(&GUEST) }
            }

            #[export_name = "on_message"]
            extern "C" fn __tinywasm_on_message(ptr: *const u8, len: usize) {
                // SAFETY: as above; the host wrote `len` bytes at `ptr` and keeps them until we return.
                unsafe { $crate::__private::on_message(&GUEST, ptr, len) }
            }

            #[export_name = "on_topic_message"]
            extern "C" fn __tinywasm_on_topic_message(
                topic: *const u8,
                topic_len: usize,
                ptr: *const u8,
                len: usize,
            ) {
                // SAFETY: as above, for the topic's bytes and the payload's.
                unsafe { $crate::__private::on_topic_message(&GUEST, topic, topic_len, ptr, len) }
            }

            #[export_name = "drain"]
            extern "C" fn __tinywasm_drain() -> i32 {
                // SAFETY: as for `init`.
                unsafe { $crate::__private::drain(&GUEST) }
            }

            $($crate::guest!(@feature $feature GUEST);)*
        };
    };
}
