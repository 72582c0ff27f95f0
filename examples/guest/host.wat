;; host.wat - the guest of examples/host.c: imports two functions from the host and exports
;; one the host calls back. Compiled to build/examples/host.wasm by wat2wasm at build time.
(module $host
  ;; Prints the string of len bytes at ptr in this module's memory.
  (import "host" "log" (func $log (param $ptr i32) (param $len i32)))
  ;; Returns term(1) + term(2) + ... + term(n), calling back into our export "term".
  (import "host" "sum_terms" (func $sum_terms (param $n i32) (result i64)))

  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm")

  ;; i * i, called by the host from inside sum_terms.
  (func $term (export "term") (param $i i32) (result i64)
    (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i))))

  ;; The entry point: log a greeting, then sum the terms 1..n through the host.
  (func $run (export "run") (param $n i32) (result i64)
    (call $log (i32.const 16) (i32.const 15))
    (call $sum_terms (local.get $n)))
)
