;; call.wat - the guest of examples/call.c: exported functions of several types for the host to
;; call. Compiled to build/examples/call.wasm by wat2wasm at build time.
(module $call
  ;; (i32, i32) -> i32
  (func $add (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))

  ;; n! in 64 bits, by a loop: (i64) -> i64
  (func $factorial (export "factorial") (param $n i64) (result i64)
    (local $r i64)
    (local.set $r (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.le_u (local.get $n) (i64.const 1)))
        (local.set $r (i64.mul (local.get $r) (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $r))

  ;; Two results (multi-value): quotient and remainder. (i32, i32) -> (i32, i32)
  (func $divmod (export "divmod") (param $a i32) (param $b i32) (result i32 i32)
    (i32.div_u (local.get $a) (local.get $b))
    (i32.rem_u (local.get $a) (local.get $b)))

  ;; (f64, f64) -> f64
  (func $hypot (export "hypot") (param $x f64) (param $y f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get $x) (local.get $x))
                       (f64.mul (local.get $y) (local.get $y)))))
)
