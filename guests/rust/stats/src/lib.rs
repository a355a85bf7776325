//! stats (sample app, Rust): watches what the page sends to the other modules (`chat.in`, `echo.in`,
//! `users.requests`) and, after each message, shows browsers of `/ws?topic=stats` a JSON summary: messages
//! per topic and the chat's most used words. State lives in an ordinary struct; no `unsafe` anywhere.
//!
//! Try a live swap: change `TOP_WORDS` below, run guests/build.sh, and watch the page's "Traffic" card.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use tinywasm::{Guest, Message};

const WATCHED: [&str; 3] = ["chat.in", "echo.in", "users.requests"];
const TOP_WORDS: usize = 5;
/// Distinct words remembered; past it, the words seen only once are forgotten, so memory stays bounded.
const MAX_WORDS: usize = 2000;

#[derive(Default)]
struct Stats {
    messages: BTreeMap<&'static str, u64>,
    words: BTreeMap<String, u64>,
}

impl Guest for Stats {
    fn init(&mut self) {
        for topic in WATCHED {
            tinywasm::subscribe(topic);
            self.messages.insert(topic, 0);
        }
        tinywasm::log!("stats ready: watching {}", WATCHED.join(", "));
    }

    fn on_message(&mut self, message: Message<'_>) {
        if let Some(count) = WATCHED.iter().find(|t| **t == message.topic()).and_then(|t| self.messages.get_mut(t)) {
            *count += 1;
        }
        if message.topic() == "chat.in" {
            self.count_words(&message.text_lossy());
        }
        tinywasm::ws_broadcast("stats", self.summary());
    }
}

impl Stats {
    fn count_words(&mut self, text: &str) {
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3) {
            *self.words.entry(word.to_lowercase()).or_insert(0) += 1;
        }
        if self.words.len() > MAX_WORDS {
            self.words.retain(|_, n| *n > 1);
        }
    }

    /// `{"total":3,"messages":{"chat.in":2,...},"words":[["hello",2],...]}`, most used words first.
    fn summary(&self) -> String {
        let mut top: Vec<(&String, &u64)> = self.words.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let total: u64 = self.messages.values().sum();
        let messages: Vec<String> = self.messages.iter().map(|(t, n)| format!("{}:{}", json(t), n)).collect();
        let words: Vec<String> = top.iter().take(TOP_WORDS).map(|(w, n)| format!("[{},{}]", json(w), n)).collect();
        format!("{{\"total\":{},\"messages\":{{{}}},\"words\":[{}]}}", total, messages.join(","), words.join(","))
    }
}

/// A JSON string literal.
fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

tinywasm::guest!(Stats);
