// tinywasm.ts - guest side of tinywasm-wasi's guest ABI v1 for AssemblyScript.
//
// Import what you need and export the allocator from your entry file:
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
