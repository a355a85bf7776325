// echo (test guest of the guest builds): each message on "as.in" goes back on "as.out" after PREFIX.
import { payload, publish, subscribe } from "./tinywasm";
export { malloc, free } from "./tinywasm";

const PREFIX = "v1:";

export function init(): void {
  subscribe("as.in");
}

export function on_message(ptr: usize, len: i32): void {
  publish("as.out", PREFIX + payload(ptr, len));
}
