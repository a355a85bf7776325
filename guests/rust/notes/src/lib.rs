//! notes (sample app): a small JSON API over HTTP, served by a guest through `/m/notes`, in Rust with the `tinywasm`
//! crate's HTTP support (no `unsafe`). The notes live in the instance: they survive requests, not a swap.
//!
//! | request | answer |
//! |---|---|
//! | `GET /m/notes` | 200 `{"notes":[{"id":1,"text":"..."}],"count":1}` |
//! | `GET /m/notes/{id}` | 200 `{"id":1,"text":"..."}`, 404 |
//! | `POST /m/notes` (the note's text as the body) | 201 `{"id":2,"text":"..."}`, 400 (empty or not UTF-8, over 280 characters) |
//! | `DELETE /m/notes/{id}` | 204, 404 |
//! | anything else | 405 |
#![forbid(unsafe_code)]

use tinywasm::http::{Request, Response};
use tinywasm::{Guest, Http};

const MAX_TEXT: usize = 280;
const MAX_NOTES: usize = 100;

#[derive(Default)]
struct Notes {
    next: u32,
    notes: Vec<(u32, String)>,
}

impl Guest for Notes {}

impl Http for Notes {
    fn handle_http(&mut self, request: &mut Request) -> Option<Response> {
        let id = request.segments().first().map(|s| s.parse::<u32>().ok());
        Some(match (request.method(), id) {
            ("GET", None) => Response::json(self.list()),
            ("GET", Some(Some(id))) => match self.notes.iter().find(|(n, _)| *n == id) {
                Some((id, text)) => Response::json(note(*id, text)),
                None => error(404, "no such note"),
            },
            ("POST", None) => self.add(request),
            ("DELETE", Some(Some(id))) => match self.notes.iter().position(|(n, _)| *n == id) {
                Some(i) => {
                    self.notes.remove(i);
                    Response::new(204)
                }
                None => error(404, "no such note"),
            },
            (_, Some(None)) => error(404, "no such note"),
            _ => error(405, "use GET, POST or DELETE").header("Allow", "GET, POST, DELETE"),
        })
    }
}

impl Notes {
    fn list(&self) -> String {
        let items: Vec<String> = self.notes.iter().map(|(id, text)| note(*id, text)).collect();
        format!("{{\"notes\":[{}],\"count\":{}}}", items.join(","), self.notes.len())
    }

    fn add(&mut self, request: &mut Request) -> Response {
        let text = match request.text() {
            Some(text) => text.trim().to_owned(),
            None => return error(400, "the note must be UTF-8 text"),
        };
        if text.is_empty() || text.chars().count() > MAX_TEXT {
            return error(400, "a note has 1 to 280 characters");
        }
        if self.notes.len() == MAX_NOTES {
            self.notes.remove(0); // keep the newest hundred
        }
        self.next += 1;
        self.notes.push((self.next, text));
        let (id, text) = self.notes.last().expect("just pushed");
        tinywasm::log!("note {} added", id);
        Response::json(note(*id, text)).status(201)
    }
}

fn note(id: u32, text: &str) -> String {
    format!("{{\"id\":{},\"text\":{}}}", id, json_string(text))
}

fn error(status: u16, message: &str) -> Response {
    Response::json(format!("{{\"error\":{}}}", json_string(message))).status(status)
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            // the page renders notes with textContent; escaping these keeps the JSON safe in any HTML too
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

tinywasm::guest!(Notes, http);
