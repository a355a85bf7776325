;; each message on "w.in" goes back on "w.out" after the prefix "v1:"
(module
  (import "env" "publish" (func $publish (param i32 i32 i32 i32)))
  (import "env" "subscribe" (func $subscribe (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "w.in")
  (data (i32.const 32) "w.out")
  (data (i32.const 1021) "v1:")
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "init") (call $subscribe (i32.const 16) (i32.const 4) (i32.const 0)))
  (func (export "on_message") (param $p i32) (param $l i32)
    (call $publish (i32.const 32) (i32.const 5) (i32.const 1021) (i32.add (local.get $l) (i32.const 3)))))
