;; smoke.wat - the profiler's smoke test (CTest interp_prof_smoke, smoke.sh): a loop with a call
;; in it, so the profile has pairs, back edges and calls, and the dump has several functions.
;; run() sums sq(i) for i = 1..100 and returns 338350.
(module
  (func $sq (param $x i32) (result i32)
    (i32.mul (local.get $x) (local.get $x)))
  (func $never (result i32)
    (i32.const 7))
  (func (export "run") (result i32)
    (local $i i32) (local $sum i32)
    (local.set $i (i32.const 1))
    (loop $next
      (local.set $sum (i32.add (local.get $sum) (call $sq (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $i) (i32.const 100))))
    (local.get $sum)))
