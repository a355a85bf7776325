// shout (AssemblyScript guest): every message on "shout.in" comes back upper-cased, to the WebSocket
// clients of /ws?topic=shout and on the bus as "shout.out".
import { log, payload, publish, subscribe, wsBroadcast } from "./tinywasm";
export { malloc, free } from "./tinywasm";

let count: i32 = 0;

export function init(): void {
  subscribe("shout.in");
  log("shout ready");
}

export function on_message(ptr: usize, len: i32): void {
  count++;
  const loud = payload(ptr, len).toUpperCase() + "!";
  wsBroadcast("shout", loud);
  publish("shout.out", loud);
}
