;; producer.wat - one of the two guests of examples/memory.c: writes into a memory that it imports
;; (the host made it; consumer.wasm imports the same one). Compiled by wat2wasm at build time.
(module $producer
  (import "env" "memory" (memory 1))

  ;; Writes the n little-endian i32 values 0*0, 1*1, ..., (n-1)*(n-1) from address ptr on.
  (func $squares (export "squares") (param $ptr i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2)))
                   (i32.mul (local.get $i) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
)
