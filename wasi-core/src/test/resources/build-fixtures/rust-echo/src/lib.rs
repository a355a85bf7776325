//! echo (test guest of the guest builds): each message on `rs.in` goes back on `rs.out` after PREFIX.
#![forbid(unsafe_code)]

use tinywasm::{Guest, Message};

const PREFIX: &str = "v1:";

#[derive(Default)]
struct Echo;

impl Guest for Echo {
    fn init(&mut self) {
        tinywasm::subscribe("rs.in");
    }

    fn on_message(&mut self, message: Message<'_>) {
        let mut reply = PREFIX.as_bytes().to_vec();
        reply.extend_from_slice(message.payload());
        tinywasm::publish("rs.out", &reply);
    }
}

tinywasm::guest!(Echo);
