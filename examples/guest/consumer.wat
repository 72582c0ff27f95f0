;; consumer.wat - the other guest of examples/memory.c: reads the memory that producer.wasm and the
;; host write (it imports the same one). Its functions are named (wat2wasm --debug-names writes them
;; to the name section), so a trap's backtrace says where it happened. Compiled at build time.
(module $consumer
  (import "env" "memory" (memory 1))

  ;; The i-th i32 of the array at ptr.
  (func $element (param $ptr i32) (param $i i32) (result i32)
    (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))))

  ;; The sum of the n i32 values from address ptr on, in 64 bits.
  (func $sum (export "sum") (param $ptr i32) (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i64.add (local.get $s)
                               (i64.extend_i32_u (call $element (local.get $ptr) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $s))
)
