;; echo (sample app, hand-written WAT): every message on "echo.in" goes back to the browsers of
;; /ws?topic=echo, unchanged. No libc: a fixed buffer serves as malloc, since calls into one module never
;; overlap and the host copies the payload out before the next delivery.
(module
  (import "env" "subscribe" (func $subscribe (param i32 i32 i32)))
  (import "env" "ws_broadcast" (func $ws_broadcast (param i32 i32 i32 i32)))
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "echo.in")
  (data (i32.const 32) "echo")
  (data (i32.const 48) "echo ready")
  (func (export "malloc") (param $size i32) (result i32)
    ;; one 64 KiB buffer at 64 KiB; 0 (no buffer) for anything larger
    (if (result i32) (i32.le_u (local.get $size) (i32.const 65536))
      (then (i32.const 65536)) (else (i32.const 0))))
  (func (export "init")
    (call $subscribe (i32.const 16) (i32.const 7) (i32.const 0))
    (call $log (i32.const 48) (i32.const 10)))
  (func (export "on_message") (param $ptr i32) (param $len i32)
    (call $ws_broadcast (i32.const 32) (i32.const 4) (local.get $ptr) (local.get $len))))
