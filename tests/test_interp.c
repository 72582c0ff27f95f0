/* test_interp.c - cmocka tests of the interpreter (src/interp/): the translator's register
 * allocation (folded local.get/const and their aliasing with local.set/tee, patched destinations,
 * fused compare-and-branch, immediate forms), control flow (multi-value blocks, branches that move
 * values, br_table with and without stubs, dead code), calls (direct, indirect, host, re-entry,
 * cross-instance), traps and their backtraces in both bounds modes (guard mode recovers in place
 * through the fault table), the VM stack limit, fuel, interrupts, memory.grow under a cap, the
 * per-module code cache shared by threads, and a little SIMD. Every test runs in both bounds modes
 * unless it is about one. Modules are text, converted with wat2wasm at run time. The spec suite
 * (spec-tests/) checks the instruction semantics exhaustively; these tests check what it does
 * not reach or what the interpreter adds. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "interp/code.h"
#include "interp/interp.h"
#include "k23vm.h"
#include "runtime.h"

/* ---- helpers ----------------------------------------------------------------------------------- */

/* One engine, module, store and instance. */
typedef struct vm {
    k23vm_engine *engine;
    k23vm_module *module;
    k23vm_store *store;
    k23vm_instance *inst;
    k23vm_linker *linker;
} vm;

static k23vm_bounds_mode g_bounds = K23VM_BOUNDS_EXPLICIT;

static void vm_open_cfg(vm *v, const char *text, const k23vm_store_config *scfg, k23vm_bounds_mode bounds)
{
    memset(v, 0, sizeof *v);
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.bounds = bounds;
    ok(k23vm_engine_new(&cfg, &v->engine));
    size_t n;
    uint8_t *bytes = wat(text, &n);
    ok(k23vm_module_new(v->engine, bytes, n, &v->module));
    free(bytes);
    ok(k23vm_store_new(v->engine, scfg, &v->store));
    ok(k23vm_linker_new(v->engine, &v->linker));
}

static void vm_instantiate(vm *v)
{
    k23vm_trap *trap = NULL;
    ok(k23vm_linker_instantiate(v->linker, v->store, v->module, &v->inst, &trap));
    assert_null(trap);
}

static void vm_open(vm *v, const char *text)
{
    vm_open_cfg(v, text, NULL, g_bounds);
    vm_instantiate(v);
}

static void vm_close(vm *v)
{
    k23vm_linker_delete(v->linker);
    k23vm_store_delete(v->store);
    k23vm_module_delete(v->module);
    k23vm_engine_delete(v->engine);
}

static k23vm_func *export_func(vm *v, const char *name)
{
    k23vm_extern x;
    if (!k23vm_instance_export(v->inst, name, strlen(name), &x) || x.kind != K23VM_EXTERN_FUNC)
        fail_msg("no exported function %s", name);
    return x.of.func;
}

static k23vm_val I32(int32_t x) { return (k23vm_val){.kind = K23VM_I32, .of.i32 = x}; }
static k23vm_val I64(int64_t x) { return (k23vm_val){.kind = K23VM_I64, .of.i64 = x}; }
static k23vm_val F64(double x) { return (k23vm_val){.kind = K23VM_F64, .of.f64 = x}; }

/* Calls name(args) expecting no trap; results in res. */
static void call(vm *v, const char *name, const k23vm_val *args, size_t nargs, k23vm_val *res, size_t nres)
{
    k23vm_trap *trap = NULL;
    ok(k23vm_func_call(v->store, export_func(v, name), args, nargs, res, nres, &trap));
    if (trap) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", k23vm_trap_message(trap));
        k23vm_trap_delete(trap);
        fail_msg("%s trapped: %s", name, copy);
    }
}

static int32_t call_i32(vm *v, const char *name, const k23vm_val *args, size_t nargs)
{
    k23vm_val r;
    call(v, name, args, nargs, &r, 1);
    assert_int_equal(r.kind, K23VM_I32);
    return r.of.i32;
}

static int64_t call_i64(vm *v, const char *name, const k23vm_val *args, size_t nargs)
{
    k23vm_val r;
    call(v, name, args, nargs, &r, 1);
    assert_int_equal(r.kind, K23VM_I64);
    return r.of.i64;
}

/* Calls name(args) expecting a trap; returns it (the caller deletes it). */
static k23vm_trap *call_trap(vm *v, const char *name, const k23vm_val *args, size_t nargs, size_t nres)
{
    k23vm_trap *trap = NULL;
    k23vm_val res[8];
    ok(k23vm_func_call(v->store, export_func(v, name), args, nargs, res, nres, &trap));
    if (!trap) fail_msg("%s did not trap", name);
    return trap;
}

static void expect_trap(vm *v, const char *name, const k23vm_val *args, size_t nargs, size_t nres,
                        k23vm_trap_code code, const char *msg)
{
    k23vm_trap *t = call_trap(v, name, args, nargs, nres);
    assert_int_equal(k23vm_trap_code_of(t), code);
    if (msg) assert_string_equal(k23vm_trap_message(t), msg);
    k23vm_trap_delete(t);
}

/* Runs a test body in both bounds modes. */
#define BOTH_MODES(fn)                                \
    static void fn##_both(void **state)               \
    {                                                 \
        g_bounds = K23VM_BOUNDS_EXPLICIT;             \
        fn(state);                                    \
        g_bounds = K23VM_BOUNDS_GUARD;                \
        fn(state);                                    \
        g_bounds = K23VM_BOUNDS_EXPLICIT;             \
    }

/* ---- arithmetic and the translator's folding ---------------------------------------------------- */

static const char *basic_wat =
    "(module\n"
    "  (func $fib (export \"fib\") (param i32) (result i32)\n"
    "    (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))\n"
    "      (then (local.get 0))\n"
    "      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))\n"
    "                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))\n"
    "  (func (export \"sum\") (param i32) (result i64) (local i64)\n"
    "    (block (loop\n"
    "      (br_if 1 (i32.eqz (local.get 0)))\n"
    "      (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))\n"
    "      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))\n"
    "      (br 0)))\n"
    "    (local.get 1))\n"
    /* local.set of a local whose local.get is still pending on the stack */
    "  (func (export \"alias_set\") (param i32) (result i32)\n"
    "    local.get 0\n"
    "    i32.const 5\n"
    "    local.set 0\n"
    "    local.get 0\n"
    "    i32.add)\n"
    /* local.tee: the first operand must keep the old value; the product's destination is
     * patched into the local only when nothing pending reads it */
    "  (func (export \"alias_tee\") (param i32) (result i32)\n"
    "    local.get 0\n"
    "    local.get 0\n"
    "    i32.const 1\n"
    "    i32.add\n"
    "    local.tee 0\n"
    "    i32.mul\n"
    "    local.get 0\n"
    "    i32.add)\n"
    /* a pending local.get across a block that changes the local on one path only */
    "  (func (export \"alias_block\") (param i32 i32) (result i32)\n"
    "    local.get 0\n"
    "    local.get 1\n"
    "    if\n"
    "      i32.const 100\n"
    "      local.set 0\n"
    "    end\n"
    "    local.get 0\n"
    "    i32.add)\n"
    /* swap through the stack: both gets pending when the sets happen */
    "  (func (export \"swap\") (param i32 i32) (result i32)\n"
    "    local.get 0\n"
    "    local.get 1\n"
    "    local.set 0\n"
    "    local.set 1\n"
    "    (i32.sub (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))\n"
    /* immediate forms on both sides, sub and rotr rewritten, i64 immediates in and out of range */
    "  (func (export \"imm\") (param i32 i64) (result i64)\n"
    "    (i64.add\n"
    "      (i64.extend_i32_u (i32.add (i32.sub (i32.const 100) (local.get 0))\n"
    "                                 (i32.rotr (i32.sub (local.get 0) (i32.const 3)) (i32.const 4))))\n"
    "      (i64.add (i64.sub (local.get 1) (i64.const -7))\n"
    "               (i64.and (local.get 1) (i64.const 0x123456789)))))\n"
    /* comparisons fused into br_if and if, with constants on either side */
    "  (func (export \"cmp\") (param i32 i32) (result i32) (local i32)\n"
    "    (block (br_if 0 (i32.lt_u (local.get 0) (local.get 1))) (local.set 2 (i32.const 1)))\n"
    "    (block (br_if 0 (i32.gt_s (i32.const 10) (local.get 0))) (local.set 2 (i32.add (local.get 2) (i32.const 2))))\n"
    "    (if (i32.eqz (local.get 1)) (then (local.set 2 (i32.add (local.get 2) (i32.const 4)))))\n"
    "    (if (i64.ge_s (i64.extend_i32_s (local.get 0)) (i64.const -5))\n"
    "      (then (local.set 2 (i32.add (local.get 2) (i32.const 8)))))\n"
    "    (local.get 2))\n"
    "  (func (export \"div\") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))\n"
    "  (func (export \"rem\") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))\n"
    "  (func (export \"trunc\") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))\n"
    "  (func (export \"nearest\") (param f64) (result f64) (f64.nearest (local.get 0)))\n"
    "  (func (export \"fmin\") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))\n"
    "  (func (export \"popcnt\") (param i64) (result i64) (i64.popcnt (local.get 0)))\n"
    /* i32.add folded into the access: the sum wraps at 2^32 before the offset is added */
    "  (memory 1)\n"
    "  (func (export \"wrap\") (param i32) (result i32)\n"
    "    (i32.store offset=4 (i32.add (local.get 0) (i32.const 8)) (i32.const 0x55))\n"
    "    (i32.load offset=4 (i32.add (local.get 0) (i32.const 8))))\n"
    /* zero-setting a fresh local is dropped only while it is known zero */
    "  (func (export \"zeros\") (param i32) (result i32) (local i32 i32)\n"
    "    (local.set 1 (i32.const 0)) (local.set 2 (local.get 0))\n"
    "    (loop (local.set 1 (i32.add (local.get 1) (local.get 2)))\n"
    "          (local.set 2 (i32.const 0)) (br_if 0 (i32.eqz (local.get 1))))\n"
    "    (local.set 2 (i32.const 0)) (i32.add (local.get 1) (local.get 2)))\n"
    /* f64 with a loaded operand on either side, and with constants on either side */
    "  (func (export \"fmem\") (param i32 f64) (result f64)\n"
    "    (f64.store (i32.const 8) (f64.const 10))\n"
    "    (f64.add (f64.sub (f64.load (local.get 0)) (local.get 1))\n"
    "             (f64.div (local.get 1) (f64.load offset=0 (local.get 0)))))\n"
    "  (func (export \"fimm\") (param f64) (result f64)\n"
    "    (f64.add (f64.add (f64.sub (f64.const 1) (local.get 0)) (f64.div (local.get 0) (f64.const 4)))\n"
    "             (f64.add (f64.div (f64.const 8) (local.get 0))\n"
    "                      (f64.convert_i32_s (i32.add (f64.lt (f64.const 3) (local.get 0))\n"
    "                                                  (i32.mul (i32.const 10) (f64.ge (local.get 0) (f64.const 2))))))))\n"
    /* f64 read-modify-write: x = a op x and x = x op a, stored back in place */
    "  (func (export \"rmw\") (param i32 f64) (result f64)\n"
    "    (f64.store (local.get 0) (f64.const 3))\n"
    "    (f64.store (local.get 0) (f64.mul (local.get 1) (f64.load (local.get 0))))\n"
    "    (f64.store (local.get 0) (f64.sub (f64.load (local.get 0)) (local.get 1)))\n"
    "    (f64.load (local.get 0)))\n"
    /* an operand shifted by an immediate, on either side (sub: right only) */
    "  (func (export \"shop\") (param i32 i32) (result i32)\n"
    "    (i32.xor (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 3)))\n"
    "             (i32.xor (i32.rotl (local.get 0) (i32.const 7))\n"
    "                      (i32.sub (local.get 1) (i32.shr_s (local.get 0) (i32.const 33))))))\n"
    /* a rotation: consecutive moves merged into one instruction, in order */
    "  (func (export \"rotate\") (param i32 i32 i32 i32) (result i32) (local i32)\n"
    "    (local.set 4 (local.get 0)) (local.set 0 (local.get 1)) (local.set 1 (local.get 2))\n"
    "    (local.set 2 (local.get 3)) (local.set 3 (local.get 4))\n"
    "    (i32.add (i32.add (i32.mul (local.get 0) (i32.const 1000)) (i32.mul (local.get 1) (i32.const 100)))\n"
    "             (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3))))\n"
    ")\n";

static void test_basic(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, basic_wat);
    k23vm_val a[2];
    a[0] = I32(20);
    assert_int_equal(call_i32(&v, "fib", a, 1), 6765);
    a[0] = I32(100000);
    assert_int_equal(call_i64(&v, "sum", a, 1), 5000050000LL);
    a[0] = I32(7);
    assert_int_equal(call_i32(&v, "alias_set", a, 1), 12);
    a[0] = I32(6);
    assert_int_equal(call_i32(&v, "alias_tee", a, 1), 6 * 7 + 7);
    a[0] = I32(3), a[1] = I32(1);
    assert_int_equal(call_i32(&v, "alias_block", a, 2), 103);
    a[0] = I32(3), a[1] = I32(0);
    assert_int_equal(call_i32(&v, "alias_block", a, 2), 6);
    a[0] = I32(3), a[1] = I32(4);
    assert_int_equal(call_i32(&v, "swap", a, 2), 4 * 1000 - 3);
    a[0] = I32(0x35), a[1] = I64(0x1000000000LL);
    {
        uint32_t x = 0x35, r = x - 3;
        uint32_t lo = (100 - x) + ((r >> 4) | (r << 28));
        int64_t expect = (int64_t)lo + (0x1000000000LL + 7) + (0x1000000000LL & 0x123456789LL);
        assert_int_equal(call_i64(&v, "imm", a, 2), expect);
    }
    a[0] = I32(1), a[1] = I32(2); /* lt_u taken; 10 > 1 taken; not eqz; 1 >= -5 */
    assert_int_equal(call_i32(&v, "cmp", a, 2), 8);
    a[0] = I32(20), a[1] = I32(0); /* not lt_u: +1; 10 > 20 no: +2; eqz: +4; +8 */
    assert_int_equal(call_i32(&v, "cmp", a, 2), 15);
    a[0] = I32(-9), a[1] = I32(-1); /* lt_u taken; 10 > -9 taken; -9 >= -5 no */
    assert_int_equal(call_i32(&v, "cmp", a, 2), 0);

    a[0] = I32(7), a[1] = I32(-2);
    assert_int_equal(call_i32(&v, "div", a, 2), -3);
    a[0] = I32(INT32_MIN), a[1] = I32(-1);
    expect_trap(&v, "div", a, 2, 1, K23VM_TRAP_INTEGER_OVERFLOW, "integer overflow");
    assert_int_equal(call_i32(&v, "rem", a, 2), 0);
    a[1] = I32(0);
    expect_trap(&v, "rem", a, 2, 1, K23VM_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    a[0] = F64(-2147483648.9);
    assert_int_equal(call_i32(&v, "trunc", a, 1), INT32_MIN);
    a[0] = F64(2147483648.0);
    expect_trap(&v, "trunc", a, 1, 1, K23VM_TRAP_INTEGER_OVERFLOW, "integer overflow");
    a[0] = F64(__builtin_nan(""));
    expect_trap(&v, "trunc", a, 1, 1, K23VM_TRAP_INVALID_CONVERSION, "invalid conversion to integer");
    k23vm_val r;
    a[0] = F64(2.5);
    call(&v, "nearest", a, 1, &r, 1);
    assert_true(r.of.f64 == 2.0);
    a[0] = F64(-0.5);
    call(&v, "nearest", a, 1, &r, 1);
    assert_true(r.of.f64 == 0.0 && __builtin_signbit(r.of.f64));
    a[0] = F64(0.0), a[1] = F64(-0.0);
    call(&v, "fmin", a, 2, &r, 1);
    assert_true(__builtin_signbit(r.of.f64));
    a[0] = I64(-1);
    assert_int_equal(call_i64(&v, "popcnt", a, 1), 64);
    a[0] = I32(-8); /* -8 + 8 wraps to 0, then + 4: in bounds */
    assert_int_equal(call_i32(&v, "wrap", a, 1), 0x55);
    a[0] = I32(-6); /* 2 + 4 */
    assert_int_equal(call_i32(&v, "wrap", a, 1), 0x55);
    a[0] = I32(-12); /* 0xFFFFFFFC + 4 = 2^32: the offset does not wrap (4.4.7) */
    expect_trap(&v, "wrap", a, 1, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(65536 - 12); /* 65532 + 4 = 65536: out of bounds */
    expect_trap(&v, "wrap", a, 1, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(5);
    assert_int_equal(call_i32(&v, "zeros", a, 1), 5);
    a[0] = I32(8), a[1] = F64(2.0);
    call(&v, "fmem", a, 2, &r, 1);
    assert_true(r.of.f64 == (10.0 - 2.0) + (2.0 / 10.0));
    a[0] = I32(65536 - 4);
    expect_trap(&v, "fmem", a, 2, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = F64(2.0); /* (1 - 2) + 2/4 + 8/2 + (3 < 2) + 10 * (2 >= 2) */
    call(&v, "fimm", a, 1, &r, 1);
    assert_true(r.of.f64 == -1.0 + 0.5 + 4.0 + 0 + 10);
    a[0] = F64(4.0);
    call(&v, "fimm", a, 1, &r, 1);
    assert_true(r.of.f64 == -3.0 + 1.0 + 2.0 + 1 + 10);
    {
        int32_t x = -123457, y = 98765;
        uint32_t ux = (uint32_t)x;
        int32_t expect = (int32_t)(((uint32_t)x + ((uint32_t)y << 3)) ^
                                   (((ux << 7) | (ux >> 25)) ^ (uint32_t)(y - (x >> 1))));
        a[0] = I32(x), a[1] = I32(y);
        assert_int_equal(call_i32(&v, "shop", a, 2), expect);
    }
    a[0] = I32(16), a[1] = F64(2.0); /* 3 * 2 = 6, 6 - 2 = 4 */
    call(&v, "rmw", a, 2, &r, 1);
    assert_true(r.of.f64 == 4.0);
    a[0] = I32(65536 - 4);
    expect_trap(&v, "rmw", a, 2, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    k23vm_val ra[4] = {I32(1), I32(2), I32(3), I32(4)};
    assert_int_equal(call_i32(&v, "rotate", ra, 4), 2341);
    vm_close(&v);
}
BOTH_MODES(test_basic)

/* ---- control flow ------------------------------------------------------------------------------------ */

static const char *control_wat =
    "(module\n"
    /* multi-value block with parameters; a branch out of a deeper position moves its values */
    "  (func (export \"mv\") (param i32) (result i32 i32)\n"
    "    (i32.const 1) (i32.const 2)\n"
    "    (block (param i32 i32) (result i32 i32)\n"
    "      (i32.const 10) (i32.const 20)\n"
    "      (br_if 0 (local.get 0))\n"
    "      (drop) (drop) (i32.add) (i32.const 7)))\n"
    /* a loop with parameters carried around the back edge */
    "  (func (export \"loopmv\") (param i32) (result i32)\n"
    "    (i32.const 0)\n"
    "    (loop (param i32) (result i32)\n"
    "      local.get 0  i32.add\n"
    "      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))\n"
    "      local.get 0  br_if 0))\n"
    /* br_table: direct entries, a stub that moves a value, the function label, a loop */
    "  (func (export \"switch\") (param i32) (result i32)\n"
    "    (block $d (block $c (block $b (block $a\n"
    "            (br_table $a $b $c $a $d (local.get 0)))\n"
    "          (return (i32.const 10)))\n"
    "        (return (i32.const 20)))\n"
    "      (return (i32.const 30)))\n"
    "    (i32.const 40))\n"
    "  (func (export \"switch_val\") (param i32) (result i32)\n"
    "    (block $x (result i32)\n"
    "      (block $y (result i32)\n"
    "        (i32.const 9) (i32.const 77)\n"
    "        (br_table $x $y 2 (local.get 0))))\n"
    "    (i32.mul (i32.const 2)))\n"
    /* dead code after br and unreachable; a block whose end nothing reaches */
    "  (func (export \"dead\") (param i32) (result i32)\n"
    "    (block (result i32)\n"
    "      (br 0 (i32.const 3))\n"
    "      (i32.const 4) (unreachable) (block (loop (br 0))) (i32.add))\n"
    "    (local.set 0)\n"
    "    (block (return (i32.add (local.get 0) (i32.const 1))))\n"
    "    (i32.const 99))\n"
    /* select on every kind, including v128 */
    "  (func (export \"sel\") (param i32) (result i32)\n"
    "    (i32x4.extract_lane 2 (select (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8) (local.get 0))))\n"
    "  (func (export \"three\") (result i32 i64 i32) (i32.const 1) (i64.const 2) (i32.const 3))\n"
    "  (func (export \"use3\") (result i32)\n"
    "    (call 6) (drop) (i32.wrap_i64) (i32.add))\n"
    ")\n";

static void test_control(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, control_wat);
    k23vm_val a[1], r[3];
    a[0] = I32(1);
    call(&v, "mv", a, 1, r, 2);
    assert_int_equal(r[0].of.i32, 10);
    assert_int_equal(r[1].of.i32, 20);
    a[0] = I32(0);
    call(&v, "mv", a, 1, r, 2);
    assert_int_equal(r[0].of.i32, 3);
    assert_int_equal(r[1].of.i32, 7);
    a[0] = I32(10);
    assert_int_equal(call_i32(&v, "loopmv", a, 1), 55);
    static const int32_t sw[] = {10, 20, 30, 10, 40, 40};
    for (int i = 0; i < 6; i++) {
        a[0] = I32(i);
        assert_int_equal(call_i32(&v, "switch", a, 1), sw[i]);
    }
    a[0] = I32(-1);
    assert_int_equal(call_i32(&v, "switch", a, 1), 40);
    /* The value sits one position above the labels' homes: stubs move it; the default returns. */
    static const int32_t swv[] = {154, 154, 77, 77};
    for (int i = 0; i < 4; i++) {
        a[0] = I32(i);
        assert_int_equal(call_i32(&v, "switch_val", a, 1), swv[i]);
    }
    a[0] = I32(0);
    assert_int_equal(call_i32(&v, "dead", a, 1), 4);
    a[0] = I32(1);
    assert_int_equal(call_i32(&v, "sel", a, 1), 3);
    a[0] = I32(0);
    assert_int_equal(call_i32(&v, "sel", a, 1), 7);
    call(&v, "three", NULL, 0, r, 3);
    assert_int_equal(r[0].of.i32, 1);
    assert_int_equal(r[1].of.i64, 2);
    assert_int_equal(r[2].of.i32, 3);
    assert_int_equal(call_i32(&v, "use3", NULL, 0), 3);
    vm_close(&v);
}
BOTH_MODES(test_control)

/* ---- traps and backtraces ------------------------------------------------------------------------------ */

static const char *trap_wat =
    "(module\n"
    "  (memory 1 5)\n"
    "  (table 3 funcref)\n"
    "  (elem (i32.const 0) $inner $f2)\n"
    "  (type $t0 (func (param i32) (result i32)))\n"
    "  (func $inner (param i32) (result i32) (i32.load offset=8 (local.get 0)))\n"
    "  (func $middle (param i32) (result i32) (i32.add (call $inner (local.get 0)) (i32.const 1)))\n"
    "  (func $outer (export \"outer\") (param i32) (result i32) (call $middle (local.get 0)))\n"
    "  (func $f2 (param i64) (result i64) (local.get 0))\n"
    "  (func (export \"store\") (param i32 i64) (i64.store (local.get 0) (local.get 1)))\n"
    "  (func (export \"load\") (param i32) (result i64) (i64.load (local.get 0)))\n"
    "  (func (export \"v128_store\") (param i32) (v128.store (local.get 0) (v128.const i64x2 -1 -1)))\n"
    "  (func (export \"indirect\") (param i32) (result i32)\n"
    "    (call_indirect (type $t0) (i32.const 5) (local.get 0)))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"fill\") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))\n"
    "  (func (export \"unreach\") (unreachable))\n"
    ")\n";

static void test_traps(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, trap_wat);
    k23vm_val a[2];
    a[0] = I32(100);
    assert_int_equal(call_i32(&v, "outer", a, 1), 1);
    a[0] = I32(65536 - 8 - 4);
    assert_int_equal(call_i32(&v, "outer", a, 1), 1);

    /* Out of bounds three calls deep: the backtrace names every frame, innermost first, with the
     * offset of the trapping load and of each call. */
    a[0] = I32(65536 - 8 - 3);
    k23vm_trap *t = call_trap(&v, "outer", a, 1, 1);
    assert_int_equal(k23vm_trap_code_of(t), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_string_equal(k23vm_trap_message(t), "out of bounds memory access");
    assert_int_equal(k23vm_trap_frame_count(t), 3);
    static const char *names[] = {"inner", "middle", "outer"};
    size_t last_off = 0;
    for (size_t i = 0; i < 3; i++) {
        k23vm_frame fr;
        assert_true(k23vm_trap_frame(t, i, &fr));
        assert_int_equal(fr.funcidx, i);
        assert_int_equal(fr.func_name.len, strlen(names[i]));
        assert_memory_equal(fr.func_name.ptr, names[i], fr.func_name.len);
        assert_true(fr.module_offset != SIZE_MAX);
        assert_true(fr.module_offset > last_off); /* inner is defined first: offsets grow */
        last_off = fr.module_offset;
    }
    k23vm_trap_delete(t);

    /* An out-of-bounds store writes nothing, also when it straddles the end. */
    a[0] = I32(65536 - 8), a[1] = I64(0x0102030405060708LL);
    k23vm_val none[1];
    call(&v, "store", a, 2, none, 0);
    a[0] = I32(65536 - 4), a[1] = I64(-1);
    expect_trap(&v, "store", a, 2, 0, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(65536 - 8);
    assert_int_equal(call_i64(&v, "load", a, 1), 0x0102030405060708LL);
    a[0] = I32(65536 - 8);
    expect_trap(&v, "v128_store", a, 1, 0, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    assert_int_equal(call_i64(&v, "load", a, 1), 0x0102030405060708LL);
    a[0] = I32(-1);
    expect_trap(&v, "load", a, 1, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);

    /* After growing, the new page is accessible (explicit mode reloads base and size). */
    a[0] = I32(1);
    assert_int_equal(call_i32(&v, "grow", a, 1), 1);
    a[0] = I32(65536 + 100);
    assert_int_equal(call_i64(&v, "load", a, 1), 0);
    a[0] = I32(10);
    assert_int_equal(call_i32(&v, "grow", a, 1), -1); /* past the maximum of 5 */

    a[0] = I32(0);
    assert_int_equal(call_i32(&v, "indirect", a, 1), 0);
    a[0] = I32(1);
    expect_trap(&v, "indirect", a, 1, 1, K23VM_TRAP_INDIRECT_CALL_TYPE, "indirect call type mismatch");
    a[0] = I32(2);
    expect_trap(&v, "indirect", a, 1, 1, K23VM_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element");
    a[0] = I32(3);
    expect_trap(&v, "indirect", a, 1, 1, K23VM_TRAP_UNDEFINED_ELEMENT, "undefined element");
    a[0] = I32(2 * 65536 - 10), a[1] = I32(11);
    expect_trap(&v, "fill", a, 2, 0, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(2 * 65536 + 1), a[1] = I32(0); /* n == 0 past the end traps too (4.4.7) */
    expect_trap(&v, "fill", a, 2, 0, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    expect_trap(&v, "unreach", NULL, 0, 0, K23VM_TRAP_UNREACHABLE, "unreachable");
    vm_close(&v);
}
BOTH_MODES(test_traps)

/* ---- the VM stack, fuel, interrupts ----------------------------------------------------------------- */

static const char *deep_wat =
    "(module\n"
    "  (func $down (export \"down\") (param i32) (result i32)\n"
    "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))\n"
    "      (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))\n"
    "  (func (export \"spin\") (loop (br 0)))\n"
    "  (func (export \"count\") (param i32) (result i32)\n"
    "    (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (local.get 0))\n"
    ")\n";

static void test_deep_recursion(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, deep_wat);
    k23vm_val a[1];
    a[0] = I32(1000);
    assert_int_equal(call_i32(&v, "down", a, 1), 1000);
    /* A million frames do not fit the default VM stack: a clean trap, the host stack untouched. */
    a[0] = I32(1000000);
    k23vm_trap *t = call_trap(&v, "down", a, 1, 1);
    assert_int_equal(k23vm_trap_code_of(t), K23VM_TRAP_STACK_EXHAUSTED);
    assert_string_equal(k23vm_trap_message(t), "call stack exhausted");
    assert_true(k23vm_trap_frame_count(t) > 10);
    k23vm_trap_delete(t);
    /* The store is fine afterwards. */
    a[0] = I32(10);
    assert_int_equal(call_i32(&v, "down", a, 1), 10);
    vm_close(&v);
}
BOTH_MODES(test_deep_recursion)

static void test_fuel(void **state)
{
    (void)state;
    vm v;
    k23vm_store_config scfg;
    k23vm_store_config_init(&scfg);
    scfg.fuel = true;
    vm_open_cfg(&v, deep_wat, &scfg, g_bounds);
    ok(k23vm_store_set_fuel(v.store, 1000000));
    vm_instantiate(&v);
    expect_trap(&v, "spin", NULL, 0, 0, K23VM_TRAP_OUT_OF_FUEL, "all fuel consumed");
    assert_int_equal(k23vm_store_get_fuel(v.store), 0);
    /* Deterministic: one unit per function entry and per back edge taken. */
    ok(k23vm_store_set_fuel(v.store, 1000));
    k23vm_val a[1] = {I32(100)};
    assert_int_equal(call_i32(&v, "count", a, 1), 0);
    assert_int_equal(k23vm_store_get_fuel(v.store), 1000 - 1 - 99);
    a[0] = I32(10);
    assert_int_equal(call_i32(&v, "down", a, 1), 10);
    assert_int_equal(k23vm_store_get_fuel(v.store), 1000 - 100 - 11);
    ok(k23vm_store_set_fuel(v.store, 50));
    a[0] = I32(100);
    expect_trap(&v, "count", a, 1, 1, K23VM_TRAP_OUT_OF_FUEL, NULL);
    vm_close(&v);
}
BOTH_MODES(test_fuel)

typedef struct spin_arg {
    vm *v;
    k23vm_trap_code code;
    struct timespec done;
} spin_arg;

static void *spinner(void *p)
{
    spin_arg *sa = p;
    k23vm_trap *t = NULL;
    k23vm_func_call(sa->v->store, export_func(sa->v, "spin"), NULL, 0, NULL, 0, &t);
    clock_gettime(CLOCK_MONOTONIC, &sa->done);
    sa->code = t ? k23vm_trap_code_of(t) : 0;
    k23vm_trap_delete(t);
    return NULL;
}

static void test_interrupt(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, deep_wat);
    /* The latency measured includes the scheduler's: on a busy machine (ctest -j) the spinning
     * thread may wait for a CPU after it stopped. Every round must stop; the best of five must
     * stop within 10 ms. */
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        spin_arg sa = {&v, 0, {0, 0}};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, spinner, &sa), 0);
        usleep(50 * 1000);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        k23vm_store_interrupt(v.store);
        pthread_join(th, NULL);
        assert_int_equal(sa.code, K23VM_TRAP_INTERRUPTED);
        double ms = (double)(sa.done.tv_sec - t0.tv_sec) * 1e3 + (double)(sa.done.tv_nsec - t0.tv_nsec) / 1e6;
        if (ms < best) best = ms;
    }
    assert_true(best < 10.0);
    /* Delivered: the next call runs. */
    k23vm_val a[1] = {I32(3)};
    assert_int_equal(call_i32(&v, "down", a, 1), 3);
    vm_close(&v);
}

static void test_memory_cap(void **state)
{
    (void)state;
    vm v;
    k23vm_store_config scfg;
    k23vm_store_config_init(&scfg);
    scfg.max_memory_pages = 3;
    vm_open_cfg(&v, trap_wat, &scfg, g_bounds);
    vm_instantiate(&v);
    k23vm_val a[1] = {I32(3)};
    assert_int_equal(call_i32(&v, "grow", a, 1), -1); /* 1 + 3 > the store's cap of 3 */
    a[0] = I32(2);
    assert_int_equal(call_i32(&v, "grow", a, 1), 1);
    a[0] = I32(3 * 65536 - 8);
    assert_int_equal(call_i64(&v, "load", a, 1), 0);
    a[0] = I32(1);
    assert_int_equal(call_i32(&v, "grow", a, 1), -1);
    vm_close(&v);
}
BOTH_MODES(test_memory_cap)

/* ---- host functions, re-entry, other instances -------------------------------------------------------- */

static const char *host_wat =
    "(module\n"
    "  (import \"host\" \"twice\" (func $twice (param i32) (result i32)))\n"
    "  (import \"host\" \"fail\" (func $fail))\n"
    "  (memory (export \"mem\") 1)\n"
    "  (func $rec (export \"rec\") (param i32) (result i32)\n"
    "    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))\n"
    "      (else (i32.add (call $twice (i32.sub (local.get 0) (i32.const 1))) (i32.const 0)))))\n"
    "  (func (export \"poke\") (param i32) (result i32)\n"
    "    (i32.store (i32.const 16) (local.get 0)) (drop (call $twice (i32.const 0))) (i32.load (i32.const 16)))\n"
    "  (func $calls_fail (export \"calls_fail\") (call $fail))\n"
    ")\n";

/* host.twice(n) = 2 * rec(n): re-enters wasm through the caller's exports. */
static k23vm_trap *host_twice(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    (void)env;
    k23vm_extern x;
    if (!k23vm_caller_export(caller, "rec", 3, &x)) return k23vm_trap_new(k23vm_caller_store(caller), "no rec");
    k23vm_val r;
    k23vm_trap *t = NULL;
    k23vm_error *e = k23vm_func_call(k23vm_caller_store(caller), x.of.func, args, 1, &r, 1, &t);
    if (e) {
        k23vm_error_delete(e);
        return k23vm_trap_new(k23vm_caller_store(caller), "call failed");
    }
    if (t) return t;
    /* The memory the caller sees: write to it, the wasm side reads it back. */
    k23vm_memory *mem = k23vm_caller_memory(caller);
    if (mem && args[0].of.i32 == 0) ((uint8_t *)mem->base)[16] = 42;
    results[0] = I32(2 * r.of.i32);
    return NULL;
}

static k23vm_trap *host_fail(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    (void)env, (void)args, (void)results;
    return k23vm_trap_new(k23vm_caller_store(caller), "host says no");
}

static void test_host(void **state)
{
    (void)state;
    vm v;
    vm_open_cfg(&v, host_wat, NULL, g_bounds);
    k23vm_extern x = {.kind = K23VM_EXTERN_FUNC};
    ok(k23vm_func_new_typed(v.store, "i>i", host_twice, NULL, NULL, &x.of.func));
    ok(k23vm_linker_define(v.linker, "host", 4, "twice", 5, &x));
    ok(k23vm_func_new_typed(v.store, "", host_fail, NULL, NULL, &x.of.func));
    ok(k23vm_linker_define(v.linker, "host", 4, "fail", 4, &x));
    vm_instantiate(&v);
    k23vm_val a[1] = {I32(5)};
    assert_int_equal(call_i32(&v, "rec", a, 1), 32); /* five nested host -> wasm re-entries */
    a[0] = I32(0x11223344);
    assert_int_equal(call_i32(&v, "poke", a, 1), 0x1122332A);
    k23vm_trap *t = call_trap(&v, "calls_fail", NULL, 0, 0);
    assert_int_equal(k23vm_trap_code_of(t), K23VM_TRAP_HOST);
    assert_string_equal(k23vm_trap_message(t), "host says no");
    /* The wasm frame that called the host function is in the backtrace. */
    k23vm_frame fr;
    assert_true(k23vm_trap_frame_count(t) >= 1);
    assert_true(k23vm_trap_frame(t, 0, &fr));
    assert_int_equal(fr.funcidx, 4);
    assert_true(fr.module_offset != SIZE_MAX);
    k23vm_trap_delete(t);
    vm_close(&v);
}
BOTH_MODES(test_host)

/* Calls across instances: the callee's instance and memory are used while it runs, the caller's
 * again after it returns. */
static void test_cross_instance(void **state)
{
    (void)state;
    vm a;
    vm_open_cfg(&a, "(module (memory 1) (data (i32.const 0) \"\\07\")\n"
                    "  (func (export \"get\") (result i32) (i32.load8_u (i32.const 0))))\n",
                NULL, g_bounds);
    vm_instantiate(&a);
    size_t n;
    uint8_t *bytes = wat("(module (import \"a\" \"get\" (func $get (result i32)))\n"
                         "  (memory 1) (data (i32.const 0) \"\\05\")\n"
                         "  (table 1 funcref) (elem (i32.const 0) $get)\n"
                         "  (func (export \"both\") (result i32)\n"
                         "    (i32.add (i32.mul (call $get) (i32.const 10)) (i32.load8_u (i32.const 0))))\n"
                         "  (func (export \"ind\") (result i32)\n"
                         "    (i32.add (call_indirect (result i32) (i32.const 0)) (i32.load8_u (i32.const 0)))))\n",
                         &n);
    k23vm_module *mb;
    ok(k23vm_module_new(a.engine, bytes, n, &mb));
    free(bytes);
    ok(k23vm_linker_define_instance(a.linker, "a", 1, a.inst));
    k23vm_instance *ib;
    k23vm_trap *trap = NULL;
    ok(k23vm_linker_instantiate(a.linker, a.store, mb, &ib, &trap));
    k23vm_extern x;
    assert_true(k23vm_instance_export(ib, "both", 4, &x));
    k23vm_val r;
    ok(k23vm_func_call(a.store, x.of.func, NULL, 0, &r, 1, &trap));
    assert_null(trap);
    assert_int_equal(r.of.i32, 75);
    assert_true(k23vm_instance_export(ib, "ind", 3, &x));
    ok(k23vm_func_call(a.store, x.of.func, NULL, 0, &r, 1, &trap));
    assert_null(trap);
    assert_int_equal(r.of.i32, 12);
    k23vm_store_delete(a.store); /* the instance of mb goes before mb, mb before the engine */
    a.store = NULL;
    k23vm_module_delete(mb);
    vm_close(&a);
}
BOTH_MODES(test_cross_instance)

/* ---- the code cache -------------------------------------------------------------------------------------- */

typedef struct thread_arg {
    k23vm_engine *engine;
    k23vm_module *module;
    int32_t result;
} thread_arg;

static void *fib_thread(void *p)
{
    thread_arg *ta = p;
    k23vm_store *s;
    k23vm_instance *inst;
    k23vm_trap *trap = NULL;
    if (k23vm_store_new(ta->engine, NULL, &s)) return NULL;
    if (!k23vm_instance_new(s, ta->module, NULL, 0, &inst, &trap)) {
        k23vm_extern x;
        k23vm_instance_export(inst, "fib", 3, &x);
        k23vm_val a = I32(22), r;
        if (!k23vm_func_call(s, x.of.func, &a, 1, &r, 1, &trap) && !trap) ta->result = r.of.i32;
        k23vm_trap_delete(trap);
    }
    k23vm_store_delete(s);
    return NULL;
}

/* Threads share a module whose functions are not translated yet: all race to translate, the
 * compare-and-swap keeps one copy, every thread computes the right answer. */
static void test_threads(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        vm v;
        vm_open_cfg(&v, basic_wat, NULL, g_bounds);
        thread_arg ta[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            ta[i] = (thread_arg){v.engine, v.module, 0};
            assert_int_equal(pthread_create(&th[i], NULL, fib_thread, &ta[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(ta[i].result, 17711);
        }
        assert_non_null(v.module->interp_code);
        assert_non_null(v.module->interp_code[0]);
        vm_close(&v);
    }
}

/* The translation itself: fused and folded forms are what the code holds. */
static void test_translation(void **state)
{
    (void)state;
    vm v;
    vm_open_cfg(&v, "(module (func (export \"f\") (param i32 i32) (result i32) (local i32)\n"
                    "  (local.set 2 (i32.add (local.get 0) (local.get 1)))\n"
                    "  (block (br_if 0 (i32.lt_s (local.get 2) (i32.const 10))) (local.set 2 (i32.const 0)))\n"
                    "  (local.get 2)))\n",
                NULL, K23VM_BOUNDS_EXPLICIT);
    k23vm_error *err = NULL;
    const icode *c = interp_code(v.module, 0, &err);
    assert_non_null(c);
    /* add (patched into local 2); lt_s with an immediate fused into br_if, reading local 2 from
     * the accumulator the add just set; const32 (into local 2); ret1 */
    size_t n = 0;
    for (size_t w = 0; w < c->nwords; n++) {
        unsigned op = 0;
        /* find the opcode of this handler word */
        const void *const *tab = interp_handler_table(false);
        if (tab) {
            for (unsigned i = 0; i < IOP_COUNT_; i++)
                if (tab[i] == c->code[w].h) {
                    op = i;
                    break;
                }
        } else {
            op = (unsigned)c->code[w].op;
        }
        static const unsigned expect[] = {IOP_i32_add, IOP_br_i32_lt_s_ri_a, IOP_const32, IOP_ret1};
        assert_true(n < 4);
        assert_int_equal(op, expect[n]);
        w += IWORDS(interp_nopnd[op]);
    }
    assert_int_equal(n, 4);
    assert_int_equal(c->param_slots, 2);
    assert_int_equal(c->local_slots, 1);
    k23vm_val a[2] = {I32(3), I32(4)};
    vm_instantiate(&v);
    assert_int_equal(call_i32(&v, "f", a, 2), 7);
    a[1] = I32(40);
    assert_int_equal(call_i32(&v, "f", a, 2), 0);
    vm_close(&v);
}

/* ---- superinstructions: each is checked to be emitted, then run on edge cases ---------------------- */

/* How many instructions op the translation of defined function defidx has. */
static unsigned count_op(vm *v, uint32_t defidx, unsigned op)
{
    k23vm_error *err = NULL;
    const icode *c = interp_code(v->module, defidx, &err);
    assert_non_null(c);
    const void *const *tab = interp_handler_table(g_bounds == K23VM_BOUNDS_GUARD);
    unsigned n = 0;
    for (size_t w = 0; w < c->nwords;) {
        unsigned o = IOP_COUNT_;
        for (unsigned i = 0; i < IOP_COUNT_ && o == IOP_COUNT_; i++)
            if (tab ? tab[i] == c->code[w].h : c->code[w].op == i) o = i;
        assert_true(o < IOP_COUNT_);
        const uint32_t *opnd = (const uint32_t *)(c->code + w + 1);
        unsigned np = interp_nopnd[o];
        if (o == IOP_movs) np = 1 + 2 * opnd[0];
        if (o == IOP_x_br_table) np = 3 + opnd[1];
        if (o == op) n++;
        w += IWORDS(np);
    }
    return n;
}

static const char *fused_wat =
    "(module (memory 1)\n"
    /* 0: a counter stepped and tested against a local, back edge (br_i32_ne_inc_b) */
    "  (func (export \"upto\") (param i32 i32) (result i32)\n"
    "    (loop (br_if 0 (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 3))) (local.get 1))))\n"
    "    (local.get 0))\n"
    /* 1: against an immediate, signed, across the i32 wrap (br_i32_lt_s_inc_ri_b) */
    "  (func (export \"wrap\") (param i32) (result i32) (local i32)\n"
    "    (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))\n"
    "          (br_if 0 (i32.lt_s (local.tee 0 (i32.add (local.get 0) (i32.const 0x40000000))) (i32.const 0))))\n"
    "    (i32.add (i32.mul (local.get 1) (i32.const 1000)) (i32.shr_u (local.get 0) (i32.const 28))))\n"
    /* 2: a forward exit (br_i32_ge_u_inc_ri) and an if on the sum (negated: br_i32_ne_inc_ri) */
    "  (func (export \"fwd\") (param i32) (result i32) (local i32)\n"
    "    (block (loop\n"
    "      (br_if 1 (i32.ge_u (local.tee 0 (i32.add (local.get 0) (i32.const 5))) (i32.const 100)))\n"
    "      (local.set 1 (i32.add (local.get 1) (i32.const 1)))\n"
    "      (br 0)))\n"
    "    (if (i32.eq (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (i32.const 10))\n"
    "      (then (local.set 1 (i32.const 777))))\n"
    "    (i32.add (i32.mul (local.get 1) (i32.const 1000)) (local.get 0)))\n"
    /* 3: the sum on the right (mirrored: x < sum is sum > x), and br_if on the sum itself */
    "  (func (export \"mirror\") (param i32 i32) (result i32) (local i32)\n"
    "    (loop (local.set 2 (i32.add (local.get 2) (i32.const 1)))\n"
    "          (br_if 0 (i32.lt_s (local.get 1) (local.tee 0 (i32.add (local.get 0) (i32.const -2))))))\n"
    "    (loop (local.set 2 (i32.add (local.get 2) (i32.const 100)))\n"
    "          (br_if 0 (local.tee 1 (i32.add (local.get 1) (i32.const -1)))))\n"
    "    (local.get 2))\n"
    /* 4: the compared operand is the counter itself, read after the step (always equal) */
    "  (func (export \"self\") (param i32) (result i32) (local i32)\n"
    "    (block (br_if 0 (i32.eq (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 0)))\n"
    "           (local.set 1 (i32.const 1)))\n"
    "    (i32.add (local.get 1) (local.get 0)))\n"
    /* 5: mem[p] += a * mem[q], addresses from locals, with offsets (f64_mul_m_add_st) */
    "  (func (export \"mac\") (param i32 i32 f64) (result f64)\n"
    "    (f64.store offset=16 (local.get 0)\n"
    "      (f64.add (f64.mul (local.get 2) (f64.load offset=8 (local.get 1))) (f64.load offset=16 (local.get 0))))\n"
    "    (f64.load offset=16 (local.get 0)))\n"
    /* 6: p = x0 + y0 (kept in a local), q = x1 + y1 (a temporary) before it (..._rr2) */
    "  (func (export \"mac_rr\") (param i32 i32 i32 f64) (result f64) (local i32)\n"
    "    (f64.store (local.tee 4 (i32.add (local.get 0) (local.get 2)))\n"
    "      (f64.add (f64.mul (local.get 3) (f64.load offset=8 (i32.add (local.get 1) (local.get 2))))\n"
    "               (f64.load (local.get 4))))\n"
    "    (f64.add (f64.load (local.get 4)) (f64.convert_i32_u (local.get 4))))\n"
    /* 7: q's index is p's sum (the second add reads what the first wrote: it is the acc form) */
    "  (func (export \"mac_chain\") (param i32 i32 f64) (result f64) (local i32)\n"
    "    (f64.store (local.tee 3 (i32.add (local.get 0) (local.get 1)))\n"
    "      (f64.add (f64.mul (local.get 2) (f64.load (i32.add (local.get 3) (local.get 1))))\n"
    "               (f64.load (local.get 3))))\n"
    "    (f64.load (local.get 3)))\n"
    /* 8: p stepped by a constant right before (..._ri); q loaded with a folded add */
    "  (func (export \"mac_step\") (param i32 i32 f64) (result f64)\n"
    "    (f64.store (local.tee 0 (i32.add (local.get 0) (i32.const 8)))\n"
    "      (f64.add (f64.mul (local.get 2) (f64.load (i32.add (local.get 1) (i32.const 8))))\n"
    "               (f64.load (local.get 0))))\n"
    "    (f64.add (f64.load (local.get 0)) (f64.convert_i32_u (local.get 0))))\n"
    /* 9: p == q */
    "  (func (export \"mac_same\") (param i32 f64) (result f64)\n"
    "    (f64.store (local.get 0)\n"
    "      (f64.add (f64.mul (local.get 1) (f64.load (local.get 0))) (f64.load (local.get 0))))\n"
    "    (f64.load (local.get 0)))\n"
    /* 10: both addresses base + a shared index, no offsets (..._ix); the index wraps */
    "  (func (export \"mac_ix\") (param i32 i32 i32 f64) (result f64) (local i32 i32)\n"
    "    (f64.store (local.tee 4 (i32.add (local.get 0) (local.get 2)))\n"
    "      (f64.add (f64.mul (local.get 3) (f64.load (local.tee 5 (i32.add (local.get 1) (local.get 2)))))\n"
    "               (f64.load (local.get 4))))\n"
    "    (f64.add (f64.load (local.get 4)) (f64.convert_i32_u (i32.sub (local.get 5) (local.get 4)))))\n"
    /* 11: p stepped, but with an offset: the plain form */
    "  (func (export \"mac_step_off\") (param i32 i32 f64) (result f64)\n"
    "    (f64.store offset=8 (local.tee 0 (i32.add (local.get 0) (i32.const 8)))\n"
    "      (f64.add (f64.mul (local.get 2) (f64.load (local.get 1))) (f64.load offset=8 (local.get 0))))\n"
    "    (f64.load offset=8 (local.get 0)))\n"
    /* 12: SHA-256's Sigma0 (three rotates of a local) and sigma0 (two rotates and a shift of a
     * value just loaded, b in the accumulator) */
    "  (func (export \"sigma\") (param i32) (result i32) (local i32)\n"
    "    (i32.store (i32.const 64) (local.get 0))\n"
    "    (i32.add\n"
    "      (i32.xor (i32.xor (i32.rotl (local.get 0) (i32.const 30)) (i32.rotl (local.get 0) (i32.const 19)))\n"
    "               (i32.rotl (local.get 0) (i32.const 10)))\n"
    "      (i32.xor (i32.xor (i32.rotl (local.tee 1 (i32.load (i32.const 64))) (i32.const 25))\n"
    "                        (i32.rotl (local.get 1) (i32.const 14)))\n"
    "               (i32.shr_u (local.get 1) (i32.const 3)))))\n"
    /* 13: the first rotate kept in a local: not fused, the local still written */
    "  (func (export \"sigma_kept\") (param i32) (result i32) (local i32)\n"
    "    (i32.add\n"
    "      (i32.xor (i32.xor (local.tee 1 (i32.rotl (local.get 0) (i32.const 7))) (i32.rotl (local.get 0) (i32.const 9)))\n"
    "               (i32.shr_u (local.get 0) (i32.const 3)))\n"
    "      (local.get 1)))\n"
    /* 14: i32.add with a loaded operand, on either side; with the other operand in the
     * accumulator, also when the address's i32.add was folded into the load in between */
    "  (func (export \"addm\") (param i32 i32) (result i32)\n"
    "    (i32.store offset=4 (local.get 0) (i32.const 1000))\n"
    "    (i32.store offset=8 (local.get 0) (i32.const 20000))\n"
    "    (i32.add (i32.add (local.get 1) (i32.load offset=4 (local.get 0)))\n"
    "             (i32.add (i32.add (i32.load offset=4 (local.get 0)) (local.get 1))\n"
    "                      (i32.add (i32.mul (local.get 1) (i32.const 3))\n"
    "                               (i32.load (i32.add (local.get 0) (i32.const 8)))))))\n"
    /* 15: the same access out of bounds */
    "  (func (export \"addm_oob\") (param i32 i32) (result i32)\n"
    "    (i32.add (i32.mul (local.get 1) (i32.const 3)) (i32.load offset=4 (i32.add (local.get 0) (i32.const 8)))))\n"
    /* 16: loads at a scaled index: x << k; x << k + c (the add wraps); x in the accumulator;
     * i64; and a shift kept in a local (not fused) */
    "  (func (export \"ldsh\") (param i32) (result i64) (local i32)\n"
    "    (i32.store offset=400 (i32.const 12) (i32.const 7))\n"
    "    (i64.store offset=800 (i32.const 24) (i64.const 0x100000000))\n"
    "    (i64.add (i64.extend_i32_u\n"
    "               (i32.add (i32.load offset=400 (i32.shl (local.get 0) (i32.const 2)))\n"
    "                        (i32.add (i32.load (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.const 400)))\n"
    "                                 (i32.load offset=400 (i32.shl (i32.add (local.get 0) (i32.const 0)) (i32.const 2))))))\n"
    "             (i64.add (i64.load offset=800 (i32.shl (local.get 0) (i32.const 3)))\n"
    "                      (i64.extend_i32_u (i32.load offset=400 (local.tee 1 (i32.shl (local.get 0) (i32.const 2))))))))\n"
    "  (func (export \"ldsh_wrap\") (param i32) (result i32)\n"
    "    (i32.load (i32.add (i32.shl (local.get 0) (i32.const 4)) (i32.const -4))))\n"
    "  (func (export \"put\") (param i32 f64) (f64.store (local.get 0) (local.get 1)))\n"
    "  (func (export \"get\") (param i32) (result f64) (f64.load (local.get 0)))\n"
    ")\n";

static double call_f64(vm *v, const char *name, const k23vm_val *args, size_t nargs)
{
    k23vm_val r;
    call(v, name, args, nargs, &r, 1);
    assert_int_equal(r.kind, K23VM_F64);
    return r.of.f64;
}

static void put(vm *v, int32_t addr, double x)
{
    k23vm_val a[2] = {I32(addr), F64(x)};
    call(v, "put", a, 2, NULL, 0);
}

static double get(vm *v, int32_t addr)
{
    k23vm_val a[1] = {I32(addr)};
    return call_f64(v, "get", a, 1);
}

/* The module offset of a trap's innermost frame. */
static size_t trap_offset(vm *v, const char *name, const k23vm_val *args, size_t nargs)
{
    k23vm_trap *t = call_trap(v, name, args, nargs, 1);
    assert_int_equal(k23vm_trap_code_of(t), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
    k23vm_frame fr;
    assert_true(k23vm_trap_frame(t, 0, &fr));
    k23vm_trap_delete(t);
    return fr.module_offset;
}

static void test_fused(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, fused_wat);
    k23vm_val a[4];

    /* The counter's step fused into its branch. */
    assert_int_equal(count_op(&v, 0, IOP_br_i32_ne_inc_b), 1);
    assert_int_equal(count_op(&v, 1, IOP_br_i32_lt_s_inc_ri_b), 1);
    assert_int_equal(count_op(&v, 2, IOP_br_i32_ge_u_inc_ri), 1);
    assert_int_equal(count_op(&v, 2, IOP_br_i32_ne_inc_ri), 1);
    assert_int_equal(count_op(&v, 3, IOP_br_i32_gt_s_inc_b), 1);
    assert_int_equal(count_op(&v, 3, IOP_br_i32_ne_inc_ri_b), 1);
    assert_int_equal(count_op(&v, 4, IOP_br_i32_eq_inc), 1);
    a[0] = I32(0), a[1] = I32(30);
    assert_int_equal(call_i32(&v, "upto", a, 2), 30);
    a[0] = I32(-9), a[1] = I32(0);
    assert_int_equal(call_i32(&v, "upto", a, 2), 0);
    /* 1 + 0x40000000 * k is negative once k reaches 2, positive again at 4 (the sum wraps) */
    a[0] = I32(1);
    assert_int_equal(call_i32(&v, "wrap", a, 1), 1 * 1000 + 4);
    a[0] = I32(INT32_MIN + 1);
    assert_int_equal(call_i32(&v, "wrap", a, 1), 2 * 1000 + 0);
    a[0] = I32(0);
    assert_int_equal(call_i32(&v, "fwd", a, 1), 20 * 1000 + 100);
    a[0] = I32(50); /* nine steps below 100: the if's sum is 10 */
    assert_int_equal(call_i32(&v, "fwd", a, 1), 777 * 1000 + 100);
    a[0] = I32(90);
    assert_int_equal(call_i32(&v, "fwd", a, 1), 2 * 1000 + 100);
    a[0] = I32(-10); /* -5 is above 100 unsigned: out at once */
    assert_int_equal(call_i32(&v, "fwd", a, 1), 1 * 1000 - 5);
    a[0] = I32(10), a[1] = I32(3);
    assert_int_equal(call_i32(&v, "mirror", a, 2), 4 + 300);
    a[0] = I32(5);
    assert_int_equal(call_i32(&v, "self", a, 1), 6);

    /* mem[p] += a * mem[q]: the three forms. */
    assert_int_equal(count_op(&v, 5, IOP_f64_mul_m_add_st), 1);
    assert_int_equal(count_op(&v, 6, IOP_f64_mul_m_add_st_rr2), 1);
    /* the second add reads the first's sum from the accumulator: not the plain pair rr2 takes */
    assert_int_equal(count_op(&v, 7, IOP_f64_mul_m_add_st), 1);
    assert_int_equal(count_op(&v, 8, IOP_f64_mul_m_add_st_ri), 1);
    assert_int_equal(count_op(&v, 9, IOP_f64_mul_m_add_st), 1);
    put(&v, 1016, 2.5), put(&v, 2008, 4.0);
    a[0] = I32(1000), a[1] = I32(2000), a[2] = F64(3.0);
    assert_true(call_f64(&v, "mac", a, 3) == 14.5);
    /* Each operation rounds on its own (no fused multiply-add): (1 + 2^-30)^2 rounds to
     * 1 + 2^-29, which the addend cancels exactly; a fused one would leave 2^-60. */
    double e = 1.0 + 0x1p-30;
    put(&v, 1016, -(1.0 + 0x1p-29)), put(&v, 2008, e);
    a[2] = F64(e);
    assert_true(call_f64(&v, "mac", a, 3) == 0.0);
    /* NaNs: from a, from mem[q], from mem[p] */
    put(&v, 1016, 1.0), put(&v, 2008, 1.0);
    a[2] = F64(__builtin_nan(""));
    assert_true(__builtin_isnan(call_f64(&v, "mac", a, 3)));
    a[2] = F64(1.0);
    put(&v, 2008, __builtin_nan(""));
    assert_true(__builtin_isnan(call_f64(&v, "mac", a, 3)));
    put(&v, 2008, 1.0), put(&v, 1016, -__builtin_nan(""));
    assert_true(__builtin_isnan(call_f64(&v, "mac", a, 3)));

    /* rr2: p = 3000 + 8, q = 4000 + 8 (+ offset 8); and with the sums wrapping at 2^32 */
    put(&v, 3008, 1.0), put(&v, 4016, 5.0);
    a[0] = I32(3000), a[1] = I32(4000), a[2] = I32(8), a[3] = F64(2.0);
    assert_true(call_f64(&v, "mac_rr", a, 4) == 11.0 + 3008.0);
    put(&v, 3008, 1.0);
    a[0] = I32(3016), a[1] = I32(4016), a[2] = I32(-8);
    assert_true(call_f64(&v, "mac_rr", a, 4) == 11.0 + 3008.0);
    /* mac_chain: p = 100 + 20, q = p + 20 */
    put(&v, 120, 1.5), put(&v, 140, 2.0);
    a[0] = I32(100), a[1] = I32(20), a[2] = F64(4.0);
    assert_true(call_f64(&v, "mac_chain", a, 3) == 9.5);
    /* ri: p = 5000 + 8 written back to the local; q = 6000 + 8 */
    put(&v, 5008, 1.0), put(&v, 6008, 3.0);
    a[0] = I32(5000), a[1] = I32(6000), a[2] = F64(2.0);
    assert_true(call_f64(&v, "mac_step", a, 3) == 7.0 + 5008.0);
    put(&v, 7000, 3.0);
    a[0] = I32(7000), a[1] = F64(2.0);
    assert_true(call_f64(&v, "mac_same", a, 2) == 9.0);
    /* ix: p = 9000 + 16, q = 9500 + 16; then with the index wrapping (-16 + 32 = 16) */
    assert_int_equal(count_op(&v, 10, IOP_f64_mul_m_add_st_ix), 1);
    assert_int_equal(count_op(&v, 11, IOP_f64_mul_m_add_st), 1);
    put(&v, 9016, 0.5), put(&v, 9516, 4.0);
    a[0] = I32(9000), a[1] = I32(9500), a[2] = I32(16), a[3] = F64(-2.0);
    assert_true(call_f64(&v, "mac_ix", a, 4) == -7.5 + 500.0);
    a[0] = I32(9032), a[1] = I32(9532), a[2] = I32(-16);
    assert_true(call_f64(&v, "mac_ix", a, 4) == -15.5 + 500.0);
    put(&v, 9116, 1.0), put(&v, 9200, 2.0);
    a[0] = I32(9100), a[1] = I32(9200), a[2] = F64(3.0);
    assert_true(call_f64(&v, "mac_step_off", a, 3) == 7.0);

    /* Out of bounds: q traps first, with its load's offset; then p, with the other load's, and
     * memory is unchanged either way. */
    put(&v, 8016, 1.0);
    a[0] = I32(8000), a[1] = I32(65536 - 12), a[2] = F64(2.0);
    size_t q_off = trap_offset(&v, "mac", a, 3);
    a[0] = I32(65536 - 20), a[1] = I32(8000);
    size_t p_off = trap_offset(&v, "mac", a, 3);
    assert_true(q_off != SIZE_MAX && p_off != SIZE_MAX && p_off > q_off);
    a[0] = I32(-1);
    assert_int_equal(trap_offset(&v, "mac", a, 3), p_off);
    assert_true(get(&v, 8016) == 1.0);
    /* the same for the forms with address arithmetic */
    a[0] = I32(8000), a[1] = I32(65536 - 16), a[2] = I32(4), a[3] = F64(1.0);
    size_t rq = trap_offset(&v, "mac_rr", a, 4);
    a[0] = I32(65536 - 4), a[1] = I32(8000);
    size_t rp = trap_offset(&v, "mac_rr", a, 4);
    assert_true(rq != SIZE_MAX && rp > rq);
    a[0] = I32(8000), a[1] = I32(65536 - 8), a[2] = I32(4), a[3] = F64(1.0);
    size_t iq = trap_offset(&v, "mac_ix", a, 4);
    a[0] = I32(65536 - 8), a[1] = I32(8000);
    size_t ip_ = trap_offset(&v, "mac_ix", a, 4);
    assert_true(iq != SIZE_MAX && ip_ > iq);
    a[0] = I32(-8), a[1] = I32(-8), a[2] = I32(4); /* both sums wrap to -4: q traps first */
    assert_int_equal(trap_offset(&v, "mac_ix", a, 4), iq);
    a[0] = I32(65536 - 12), a[1] = I32(8000), a[2] = F64(1.0);
    size_t sp = trap_offset(&v, "mac_step", a, 3);
    a[0] = I32(8000), a[1] = I32(65536 - 12);
    size_t sq = trap_offset(&v, "mac_step", a, 3);
    assert_true(sq != SIZE_MAX && sp > sq);

    /* i32.add with a loaded operand */
    assert_int_equal(count_op(&v, 14, IOP_i32_add_m), 2);
    assert_int_equal(count_op(&v, 14, IOP_i32_add_m_a), 1);
    assert_int_equal(count_op(&v, 15, IOP_i32_add_m_a), 1);
    a[0] = I32(10000), a[1] = I32(7);
    assert_int_equal(call_i32(&v, "addm", a, 2), 7 + 1000 + 1000 + 7 + 21 + 20000);
    a[0] = I32(10000 - 8), a[1] = I32(1);
    assert_int_equal(call_i32(&v, "addm_oob", a, 2), 3 + 1000);
    a[0] = I32(-12); /* the folded add wraps: (-12 + 8) + 4 = 2^32, out of bounds */
    expect_trap(&v, "addm_oob", a, 2, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(65536 - 15);
    expect_trap(&v, "addm_oob", a, 2, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);

    /* Loads at a scaled index */
    assert_int_equal(count_op(&v, 16, IOP_i32_load_sh), 2);
    assert_int_equal(count_op(&v, 16, IOP_i32_load_sh_a), 1);
    assert_int_equal(count_op(&v, 16, IOP_i64_load_sh), 1);
    assert_int_equal(count_op(&v, 16, IOP_i32_shl_ri), 1);
    assert_int_equal(count_op(&v, 17, IOP_i32_load_sh), 1);
    a[0] = I32(3);
    assert_int_equal(call_i64(&v, "ldsh", a, 1), 0x100000000LL + 4 * 7);
    a[0] = I32(0x40000003); /* x << 2 and x << 3 wrap: the same addresses as for 3 */
    assert_int_equal(call_i64(&v, "ldsh", a, 1), 0x100000000LL + 4 * 7);
    a[0] = I32(26); /* (x << 4) - 4 = 412 */
    assert_int_equal(call_i32(&v, "ldsh_wrap", a, 1), 7);
    a[0] = I32(0x1000001a); /* (x << 4) - 4 wraps to 412 too */
    assert_int_equal(call_i32(&v, "ldsh_wrap", a, 1), 7);
    a[0] = I32(0x1000); /* (x << 4) - 4 = 65532: the 4 bytes fit */
    call_i32(&v, "ldsh_wrap", a, 1);
    a[0] = I32(0x1001); /* 65548: out of bounds */
    expect_trap(&v, "ldsh_wrap", a, 1, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    a[0] = I32(16384 - 100); /* (x << 2) + 400 = 65536 */
    expect_trap(&v, "ldsh", a, 1, 1, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);

    /* Three shifts of one value xored: both forms, and a chain that must stay apart. */
    assert_int_equal(count_op(&v, 12, IOP_i32_xor3_rotl), 1);
    assert_int_equal(count_op(&v, 12, IOP_i32_xor3_shr_u_a), 1);
    assert_int_equal(count_op(&v, 13, IOP_i32_xor3_shr_u) + count_op(&v, 13, IOP_i32_xor3_shr_u_a), 0);
    static const uint32_t xs[] = {0, 1, 0x80000000u, 0x6a09e667u, 0xffffffffu, 0x12345678u};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        uint32_t x = xs[i];
#define ROT(x, k) ((uint32_t)((x) << (k) | (x) >> (32 - (k))))
        uint32_t big = ROT(x, 30) ^ ROT(x, 19) ^ ROT(x, 10), small = ROT(x, 25) ^ ROT(x, 14) ^ (x >> 3);
        a[0] = I32((int32_t)x);
        assert_int_equal((uint32_t)call_i32(&v, "sigma", a, 1), big + small);
        assert_int_equal((uint32_t)call_i32(&v, "sigma_kept", a, 1),
                         (ROT(x, 7) ^ ROT(x, 9) ^ (x >> 3)) + ROT(x, 7));
#undef ROT
    }
    vm_close(&v);
}
BOTH_MODES(test_fused)

/* ---- SIMD ------------------------------------------------------------------------------------------------ */

static void test_simd(void **state)
{
    (void)state;
    vm v;
    vm_open(&v, "(module (memory 1)\n"
                "  (func (export \"f\") (param i32) (result i32) (local v128)\n"
                "    (v128.store (i32.const 0) (v128.const i32x4 1 2 3 4))\n"
                "    (local.set 1 (i32x4.add (v128.load (i32.const 0)) (i32x4.splat (local.get 0))))\n"
                "    (local.set 1 (i8x16.shuffle 4 5 6 7 0 1 2 3 8 9 10 11 12 13 14 15 (local.get 1) (local.get 1)))\n"
                "    (i32.add (i32x4.extract_lane 0 (local.get 1))\n"
                "             (i32.mul (i32.const 100) (i32x4.extract_lane 1 (local.get 1))))))\n");
    k23vm_val a[1] = {I32(10)};
    assert_int_equal(call_i32(&v, "f", a, 1), 12 + 100 * 11);
    vm_close(&v);
}
BOTH_MODES(test_simd)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_both),
        cmocka_unit_test(test_control_both),
        cmocka_unit_test(test_traps_both),
        cmocka_unit_test(test_deep_recursion_both),
        cmocka_unit_test(test_fuel_both),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_memory_cap_both),
        cmocka_unit_test(test_host_both),
        cmocka_unit_test(test_cross_instance_both),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_translation),
        cmocka_unit_test(test_simd_both),
        cmocka_unit_test(test_fused_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
