//! What the host asks of a module: the handler trait and the values it receives and returns.

use std::borrow::Cow;
use std::time::Duration;

/// A module's handlers, exported with [`guest!`](crate::guest!). Every method has a default that does
/// nothing, so implement only what the module needs.
///
/// The value is created with [`Default`] on the host's first call and lives as long as the instance: a new
/// version of the module (a hot swap) starts from a new value, unless both versions implement [`State`].
pub trait Guest: Default + 'static {
    /// Called once, when the host is ready to commit this version of the module: subscribe here.
    fn init(&mut self) {}

    /// Called for each message on a topic this module subscribes to, in publish order, one at a time.
    fn on_message(&mut self, message: Message<'_>) {
        let _ = message;
    }

    /// Called while this version is being replaced or stopped, until it answers [`Drain::Idle`] (or the
    /// host's drain timeout passes). Answer [`Drain::Busy`] while work the module started is still in flight.
    fn drain(&mut self) -> Drain {
        Drain::Idle
    }
}

/// A module's state carried across a hot swap: implement it and export it with `tinywasm::guest!(T, state)`.
/// Both the old and the new version must opt in; otherwise the new version starts from [`Default`].
pub trait State: Guest {
    /// Called on the old version after it drained, before the new version's `init`: the bytes to hand over.
    fn save(&mut self) -> Vec<u8>;

    /// Called on the new version before its `init`, with what the old version saved (its value was made with
    /// [`Default`] just before).
    fn load(&mut self, state: &[u8]);
}

/// A message delivered to this module. It borrows buffers the host frees when the handler returns: copy
/// what you keep (`to_vec`, `to_owned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    topic: &'a str,
    payload: &'a [u8],
}

impl<'a> Message<'a> {
    pub(crate) fn new(topic: &'a str, payload: &'a [u8]) -> Self {
        Message { topic, payload }
    }

    /// The topic it was published on; empty on a host that calls only `on_message` (such as the Go original).
    pub fn topic(&self) -> &'a str {
        self.topic
    }

    /// Its bytes, exactly as published.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Its bytes as text, or `None` if they are not UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        std::str::from_utf8(self.payload).ok()
    }

    /// Its bytes as text, with U+FFFD for what is not UTF-8.
    pub fn text_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.payload)
    }
}

/// What [`Guest::drain`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// Nothing in flight: the host may replace or stop this version now.
    Idle,
    /// Work in flight: ask again after this long (rounded up to whole milliseconds, at least one).
    Busy(Duration),
}

impl Drain {
    /// The ABI's answer: 0 when idle, else the milliseconds to wait before asking again.
    pub(crate) fn to_abi(self) -> i32 {
        match self {
            Drain::Idle => 0,
            Drain::Busy(wait) => {
                let millis = wait.as_nanos().saturating_add(999_999) / 1_000_000;
                millis.clamp(1, i32::MAX as u128) as i32
            }
        }
    }
}
