// chat, written for tinywasm/wasi (wazero) in TinyGo: the same guest as guests/c/chat.c. It runs unchanged
// on tinywasm-wasi for Spring Boot: same imports (module "env"), same exports.
//
// Build (needs TinyGo, which this repository's machines do not have):
//
//	tinygo build -o chat.wasm -target=wasi -no-debug ./guests/tinygo/chat
//
// TinyGo's wasi target exports malloc and free, so the host frees each delivered buffer after on_message;
// TinyGo's allocator is garbage-collected, and Go code must copy a payload it keeps (string(...) does).
package main

import (
	"strconv"
	"unsafe"
)

//go:wasmimport env publish
func publish(topicPtr, topicLen, payloadPtr, payloadLen uint32)

//go:wasmimport env subscribe
func subscribe(topicPtr, topicLen, handlerIdx uint32)

//go:wasmimport env ws_broadcast
func wsBroadcast(topicPtr, topicLen, payloadPtr, payloadLen uint32)

//go:wasmimport env log
func logLine(msgPtr, msgLen uint32)

func ptr(s string) (uint32, uint32) {
	if len(s) == 0 {
		return 0, 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))), uint32(len(s))
}

func send(fn func(uint32, uint32, uint32, uint32), topic, payload string) {
	tp, tl := ptr(topic)
	pp, pl := ptr(payload)
	fn(tp, tl, pp, pl)
}

var seq int

// main runs in _start: in tinywasm/wasi only subscriptions made here took effect, so subscribe here.
func main() {
	tp, tl := ptr("chat.in")
	subscribe(tp, tl, 0)
	mp, ml := ptr("chat ready (TinyGo)")
	logLine(mp, ml)
}

//export on_message
func onMessage(p, n uint32) {
	text := string(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)) // copies: the host frees the buffer
	seq++
	line := "#" + strconv.Itoa(seq) + " " + text
	send(wsBroadcast, "chat", line)
	send(publish, "chat.log", line)
}

//export drain
func drain() uint32 { return 0 } // nothing in flight: no goroutines hold work
