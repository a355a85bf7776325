//! HTTP to guests, extended mode: a module that implements [`Http`] and is exported with `guest!(T, http)` answers
//! the requests to `/m/<name>/...` (and, as a middleware, sees the requests to other modules first).
//!
//! ```ignore
//! use tinywasm::http::{Request, Response};
//! use tinywasm::{Guest, Http};
//!
//! #[derive(Default)]
//! struct Hello;
//!
//! impl Guest for Hello {}
//!
//! impl Http for Hello {
//!     fn handle_http(&mut self, request: &mut Request) -> Option<Response> {
//!         Some(Response::text(format!("hello, {}", request.header("X-User").unwrap_or("nobody"))))
//!     }
//! }
//!
//! tinywasm::guest!(Hello, http);
//! ```
//!
//! The request is read from the host when the handler starts (its head; the body on the first call of
//! [`Request::body`]); the response is written to the host when the handler returns it. A module that does not use
//! HTTP imports none of this: `guest!(T)` exports no `handle_http`, and only functions a module calls become its
//! imports.

use crate::guest::Guest;

mod sys {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn http_request_head(buf: *mut u8, cap: usize) -> i32;
        pub fn http_request_body(buf: *mut u8, cap: usize, offset: usize) -> i32;
        pub fn http_request_set_header(name: *const u8, name_len: usize, value: *const u8, value_len: usize);
        pub fn http_response_status(code: i32);
        pub fn http_response_header(name: *const u8, name_len: usize, value: *const u8, value_len: usize);
        pub fn http_response_write(data: *const u8, len: usize);
    }
}

/// A module that answers HTTP: implement it on the module's [`Guest`] type and export both with
/// `tinywasm::guest!(T, http)`.
pub trait Http: Guest {
    /// Called for each HTTP request to this module (or, when it is a middleware, to a module its rule names), one at a
    /// time, in turn with its bus messages. Return `Some(response)` to answer; `None` not to: for a target that is a
    /// 204, for a middleware the request goes on to the next module, with the headers set by
    /// [`Request::set_header`].
    fn handle_http(&mut self, request: &mut Request) -> Option<Response>;
}

/// The request being handled. Header names and values are the bytes the client sent, one `char` per byte
/// (ISO-8859-1), as HTTP carries them.
#[derive(Debug)]
pub struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Request {
    /// Reads the request's head from the host (during `handle_http` only).
    pub(crate) fn read() -> Request {
        // SAFETY: a null buffer with capacity 0 only asks for the length; nothing is written.
        let len = unsafe { sys::http_request_head(std::ptr::null_mut(), 0) }.max(0) as usize;
        let mut head = vec![0u8; len];
        // SAFETY: `head` is writable for `len` bytes during the call.
        unsafe { sys::http_request_head(head.as_mut_ptr(), head.len()) };
        Request::parse(&head)
    }

    fn parse(head: &[u8]) -> Request {
        let text: String = head.iter().map(|&b| b as char).collect();
        let mut lines = text.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").splitn(3, ' ');
        let method = request_line.next().unwrap_or("").to_owned();
        let target = request_line.next().unwrap_or("").to_owned();
        let headers = lines
            .take_while(|line| !line.is_empty())
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.to_owned(), value.trim_start().to_owned()))
            })
            .collect();
        Request { method, target, headers, body: None }
    }

    /// The method: `GET`, `POST`, ...
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The target as the client sent it, with the query: `/m/notes/3?full=1`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The target's path, still percent-encoded: `/m/notes/3`.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The target's query without the `?`, or `""`: `full=1`.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    /// The path's segments after `/m/<name>`: `["3"]` for `/m/notes/3` (empty segments left out).
    pub fn segments(&self) -> Vec<&str> {
        self.path().split('/').filter(|s| !s.is_empty()).skip(2).collect()
    }

    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every header, in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The body, read from the host on the first call.
    pub fn body(&mut self) -> &[u8] {
        if self.body.is_none() {
            let mut body = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                // SAFETY: `chunk` is writable for its length during the call.
                let n = unsafe { sys::http_request_body(chunk.as_mut_ptr(), chunk.len(), body.len()) }.max(0) as usize;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            self.body = Some(body);
        }
        self.body.as_deref().unwrap_or(&[])
    }

    /// The body as text, or `None` if it is not UTF-8.
    pub fn text(&mut self) -> Option<&str> {
        std::str::from_utf8(self.body()).ok()
    }

    /// For a middleware: the modules after this one see `name: value` instead of any `name` header the client sent
    /// (the authenticated user, say). This request keeps what it was.
    pub fn set_header(&mut self, name: &str, value: &str) {
        // SAFETY: both strings are readable during the call; the host copies them.
        unsafe { sys::http_request_set_header(name.as_ptr(), name.len(), value.as_ptr(), value.len()) }
    }
}

/// A response: status (200 unless set), headers (not hop-by-hop ones, not `Content-Length`), body bytes. A body
/// without a `Content-Type` is sent as `application/octet-stream`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// An empty response with this status.
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    /// 200 with `text` as `text/plain;charset=UTF-8`.
    pub fn text(text: impl Into<String>) -> Response {
        Response::new(200).header("Content-Type", "text/plain;charset=UTF-8").body(text.into())
    }

    /// 200 with `json` (already JSON) as `application/json`.
    pub fn json(json: impl Into<String>) -> Response {
        Response::new(200).header("Content-Type", "application/json").body(json.into())
    }

    /// This response with another status.
    pub fn status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// This response with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// This response with this body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Hands the response to the host (at the end of `handle_http`).
    pub(crate) fn send(&self) {
        // SAFETY: every pointer is to a live string or vector, read by the host during the call only.
        unsafe {
            sys::http_response_status(i32::from(self.status));
            for (name, value) in &self.headers {
                sys::http_response_header(name.as_ptr(), name.len(), value.as_ptr(), value.len());
            }
            if !self.body.is_empty() {
                sys::http_response_write(self.body.as_ptr(), self.body.len());
            }
        }
    }
}
