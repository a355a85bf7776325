// tinywasm.ts - guest side of tinywasm-wasi's guest ABI v1 for AssemblyScript.
//
// Import what you need and export the allocator from your entry file (HTTP: see hello.ts and the end of this file):
//
//     import { publish, subscribe } from "./tinywasm";
//     export { malloc, free } from "./tinywasm";
//     export function init(): void { subscribe("greetings"); }
//     export function on_message(ptr: usize, len: i32): void { publish("replies", payload(ptr, len)); }
//
// Strings cross the boundary as UTF-8. The host frees each delivered payload (it calls the exported free
// after on_message returns), so copy what you keep.

@external("env", "publish")
declare function envPublish(topicPtr: usize, topicLen: i32, payloadPtr: usize, payloadLen: i32): void;
@external("env", "subscribe")
declare function envSubscribe(topicPtr: usize, topicLen: i32, handlerIdx: i32): void;
@external("env", "ws_broadcast")
declare function envWsBroadcast(topicPtr: usize, topicLen: i32, payloadPtr: usize, payloadLen: i32): void;
@external("env", "log")
declare function envLog(msgPtr: usize, msgLen: i32): void;

// HTTP, extended mode (only during an exported handle_http(): i32; see docs/guest-abi.md). A module imports only
// what it calls: one that does not use these imports none of them.
@external("env", "http_request_head")
declare function envHttpRequestHead(buf: usize, cap: i32): i32;
@external("env", "http_request_body")
declare function envHttpRequestBody(buf: usize, cap: i32, offset: i32): i32;
@external("env", "http_request_set_header")
declare function envHttpRequestSetHeader(namePtr: usize, nameLen: i32, valuePtr: usize, valueLen: i32): void;
@external("env", "http_response_status")
declare function envHttpResponseStatus(code: i32): void;
@external("env", "http_response_header")
declare function envHttpResponseHeader(namePtr: usize, nameLen: i32, valuePtr: usize, valueLen: i32): void;
@external("env", "http_response_write")
declare function envHttpResponseWrite(ptr: usize, len: i32): void;

function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** Publishes `text` (UTF-8) on `topic`. */
export function publish(topic: string, text: string): void {
  const t = utf8(topic);
  const p = utf8(text);
  envPublish(changetype<usize>(t), t.byteLength, changetype<usize>(p), p.byteLength);
}

/** Subscribes this module to `topic`. */
export function subscribe(topic: string): void {
  const t = utf8(topic);
  envSubscribe(changetype<usize>(t), t.byteLength, 0);
}

/** Sends `text` as one binary frame to the WebSocket clients of `topic`. */
export function wsBroadcast(topic: string, text: string): void {
  const t = utf8(topic);
  const p = utf8(text);
  envWsBroadcast(changetype<usize>(t), t.byteLength, changetype<usize>(p), p.byteLength);
}

/** One line in the host's log, under this module's name. */
export function log(text: string): void {
  const m = utf8(text);
  envLog(changetype<usize>(m), m.byteLength);
}

/** The payload of on_message as a string. */
export function payload(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

/** For the host: a buffer for a delivered payload (raw memory, outside the garbage collector). */
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

/** For the host: releases what malloc returned, after on_message. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Replaces AssemblyScript's env.abort import, which the host does not provide: a failed assertion traps. */
export function abort(message: usize, file: usize, line: u32, column: u32): void {
  unreachable();
}

// ---- HTTP (extended mode) -----------------------------------------------------------------------------------------

/** The request head: "METHOD target HTTP/1.1\r\n", a "Name: value\r\n" line per header, then "\r\n". */
export function httpRequestHead(): string {
  const len = envHttpRequestHead(0, 0);
  const head = new ArrayBuffer(len);
  envHttpRequestHead(changetype<usize>(head), len);
  return String.UTF8.decode(head);
}

/** The method: "GET", "POST", ... */
export function httpRequestMethod(): string {
  const head = httpRequestHead();
  return head.substring(0, head.indexOf(" "));
}

/** The target as sent, with the query: "/m/hello/x?y=1". */
export function httpRequestTarget(): string {
  const head = httpRequestHead();
  const start = head.indexOf(" ") + 1;
  return head.substring(start, head.indexOf(" ", start));
}

/** The value of the first header called `name` (any case), or null. */
export function httpRequestHeader(name: string): string | null {
  const lines = httpRequestHead().split("\r\n");
  const wanted = name.toLowerCase() + ":";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.toLowerCase().startsWith(wanted)) return line.substring(wanted.length).trimStart();
  }
  return null;
}

/** The whole body. */
export function httpRequestBody(): ArrayBuffer {
  let body = new Uint8Array(0);
  const chunk = new ArrayBuffer(65536);
  for (;;) {
    const n = envHttpRequestBody(changetype<usize>(chunk), chunk.byteLength, body.length);
    if (n <= 0) break;
    const more = new Uint8Array(body.length + n);
    more.set(body);
    more.set(Uint8Array.wrap(chunk, 0, n), body.length);
    body = more;
  }
  return body.buffer;
}

/** For a middleware: the modules after this one see `name: value` instead of any `name` header the client sent. */
export function httpSetRequestHeader(name: string, value: string): void {
  const n = utf8(name);
  const v = utf8(value);
  envHttpRequestSetHeader(changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength);
}

/** The response's status (default 200). */
export function httpResponseStatus(code: i32): void {
  envHttpResponseStatus(code);
}

/** Adds a response header (not hop-by-hop ones, not Content-Length). */
export function httpResponseHeader(name: string, value: string): void {
  const n = utf8(name);
  const v = utf8(value);
  envHttpResponseHeader(changetype<usize>(n), n.byteLength, changetype<usize>(v), v.byteLength);
}

/** Appends `text` (UTF-8) to the response body. */
export function httpResponseWrite(text: string): void {
  const t = utf8(text);
  envHttpResponseWrite(changetype<usize>(t), t.byteLength);
}

/** Appends bytes to the response body. */
export function httpResponseWriteBytes(bytes: ArrayBuffer): void {
  envHttpResponseWrite(changetype<usize>(bytes), bytes.byteLength);
}
