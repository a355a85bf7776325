//! probe: the test guest of wasi-core's RustGuestTest, exercising every part of the tinywasm crate.
//!
//! - `probe.in`: the payload goes back unchanged on topic `probe.out` and to WebSocket clients of `probe.ws`.
//! - `probe.ctl`: a command, as text:
//!   - `subscribe T`, `unsubscribe T`: does it, then publishes `subscribed T` (`unsubscribed T`) on `probe.seen`;
//!   - `mark TEXT`: publishes `mark:TEXT` on `probe.seen`;
//!   - `log TEXT`: writes TEXT to the host's log;
//!   - `count`: publishes how many messages the probe has handled (this one included) on `probe.count`;
//!   - `ln X`: publishes the natural logarithm of X on `probe.count` (it links libm's `log`, which must not
//!     capture the `env.log` import);
//!   - `panic`: panics (the host counts a trap, and the probe goes on);
//!   - `hold N`: the next `drain` answers "busy" N times before "idle".
//! - any other topic it was told to subscribe to: publishes `TOPIC:PAYLOAD` on `probe.seen`.
//!
//! It opts in to the state hand-off (`guest!(Probe, state)`): its count of handled messages survives a hot swap.
#![forbid(unsafe_code)]

use std::time::Duration;
use tinywasm::{Drain, Guest, Message, State};

#[derive(Default)]
struct Probe {
    handled: u64,
    hold: u32,
    busy_answers: u32,
}

impl Guest for Probe {
    fn init(&mut self) {
        tinywasm::subscribe("probe.in");
        tinywasm::subscribe("probe.ctl");
        tinywasm::log("probe ready");
    }

    fn on_message(&mut self, message: Message<'_>) {
        self.handled += 1;
        match message.topic() {
            "probe.in" => {
                tinywasm::publish("probe.out", message.payload());
                tinywasm::ws_broadcast("probe.ws", message.payload());
            }
            "probe.ctl" => self.command(&message.text_lossy()),
            topic => tinywasm::publish("probe.seen", format!("{}:{}", topic, message.text_lossy())),
        }
    }

    fn drain(&mut self) -> Drain {
        if self.hold > 0 {
            self.hold -= 1;
            self.busy_answers += 1;
            tinywasm::log!("drain: busy, {} more", self.hold);
            Drain::Busy(Duration::from_millis(1))
        } else {
            tinywasm::log!("drained after {} busy answers", self.busy_answers);
            Drain::Idle
        }
    }
}

impl Probe {
    fn command(&mut self, command: &str) {
        let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
        match verb {
            "subscribe" => {
                tinywasm::subscribe(arg);
                tinywasm::publish("probe.seen", format!("subscribed {}", arg));
            }
            "unsubscribe" => {
                tinywasm::unsubscribe(arg);
                tinywasm::publish("probe.seen", format!("unsubscribed {}", arg));
            }
            "mark" => tinywasm::publish("probe.seen", format!("mark:{}", arg)),
            "log" => tinywasm::log(arg),
            "count" => tinywasm::publish("probe.count", self.handled.to_string()),
            "ln" => tinywasm::publish("probe.count", format!("{:.3}", arg.parse::<f64>().unwrap_or(f64::NAN).ln())),
            "panic" => panic!("probe was asked to panic"),
            "hold" => self.hold = arg.parse().unwrap_or(0),
            _ => tinywasm::log!("unknown command {:?}", command),
        }
    }
}

impl State for Probe {
    fn save(&mut self) -> Vec<u8> {
        self.handled.to_string().into_bytes()
    }

    fn load(&mut self, state: &[u8]) {
        self.handled = std::str::from_utf8(state).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    }
}

tinywasm::guest!(Probe, state);
