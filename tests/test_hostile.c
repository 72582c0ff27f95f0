/* test_hostile.c - adversarial inputs from a guest and from an embedder, each of which once
 * reached (or could reach) an unchecked size, offset or pointer: bounds arithmetic near 2^32
 * (memory.grow, table.grow, segments, bulk operations), pooled slots handed to a second user,
 * and API calls with NULL or mismatched-store arguments. Every case runs in both bounds modes
 * with both allocators where that matters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"

#include "k23vm.h"

/* ---- helpers ----------------------------------------------------------------------------------- */

/* engine_with, with pools small enough that exhausting and reusing slots is quick. */
static k23vm_engine *small_engine(k23vm_bounds_mode bounds, k23vm_allocator_kind alloc)
{
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.bounds = bounds;
    cfg.allocator = alloc;
    if (alloc == K23VM_ALLOCATOR_POOLING) {
        cfg.pool.instances = cfg.pool.memories = cfg.pool.tables = 4;
        cfg.pool.memory_pages = 16;
        cfg.pool.table_elements = 4096;
    }
    k23vm_engine *e = NULL;
    ok(k23vm_engine_new(&cfg, &e));
    return e;
}

static k23vm_val v_i32(int32_t x) { return (k23vm_val){.kind = K23VM_I32, .of.i32 = x}; }

/* Calls f(args) -> at most one i32; returns the trap code, 0 for none, with *out set. */
static int call_i32(k23vm_store *s, k23vm_func *f, const k23vm_val *args, size_t nargs, int32_t *out)
{
    k23vm_val res[1];
    size_t nres = k23vm_func_type(f)->nresults;
    k23vm_trap *trap = NULL;
    ok(k23vm_func_call(s, f, args, nargs, res, nres, &trap));
    if (trap) {
        int code = (int)k23vm_trap_code_of(trap);
        k23vm_trap_delete(trap);
        return code;
    }
    if (nres && out) *out = res[0].of.i32;
    return 0;
}

static const k23vm_bounds_mode modes[] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
static const k23vm_allocator_kind allocs[] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};

/* ---- bounds arithmetic near 2^32 ---------------------------------------------------------------- */

static const char *bounds_wat =
    "(module\n"
    "  (memory (export \"mem\") 1 16)\n"
    "  (table $t (export \"tab\") 4 funcref)\n"
    "  (table $u 4 funcref)\n"
    "  (elem $e funcref (ref.func $f) (ref.func $f))\n"
    "  (data $d \"abcd\")\n"
    "  (func $f (result i32) (i32.const 7))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"tgrow\") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))\n"
    "  (func (export \"fill\") (param i32 i32) (memory.fill (local.get 0) (i32.const 1) (local.get 1)))\n"
    "  (func (export \"copy\") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"init\") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"tcopy\") (param i32 i32 i32) (table.copy $t $u (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"tinit\") (param i32 i32 i32) (table.init $t $e (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"tfill\") (param i32 i32) (table.fill $t (local.get 0) (ref.null func) (local.get 1)))\n"
    "  (func (export \"load\") (param i32) (result i32) (i32.load offset=0xfffffff0 (local.get 0)))\n"
    "  (func (export \"load64\") (param i32) (result i64) (i64.load offset=0xffffffff (local.get 0)))\n"
    "  (func (export \"store8\") (param i32) (i32.store8 (local.get 0) (i32.const 9)))\n"
    ")\n";

static void bounds_near_2_32(void **state)
{
    (void)state;
    for (size_t mi = 0; mi < 2; mi++)
        for (size_t ai = 0; ai < 2; ai++) {
            k23vm_engine *e = small_engine(modes[mi], allocs[ai]);
            k23vm_module *m = module_of(e, bounds_wat);
            k23vm_store *s = NULL;
            ok(k23vm_store_new(e, NULL, &s));
            k23vm_instance *inst = NULL;
            k23vm_trap *trap = NULL;
            ok(k23vm_instance_new(s, m, NULL, 0, &inst, &trap));
            int32_t r = 0;
            const int32_t big[] = {-1, -2, 0x7fffffff, (int32_t)0x80000000, 0x10000, 16};
            for (size_t i = 0; i < 6; i++) {
                k23vm_val a = v_i32(big[i]);
                assert_int_equal(call_i32(s, func_of(inst, "grow"), &a, 1, &r), 0);
                assert_int_equal(r, -1);
                if (i >= 4) continue; /* the table has no maximum: only the store's cap */
                assert_int_equal(call_i32(s, func_of(inst, "tgrow"), &a, 1, &r), 0);
                assert_int_equal(r, -1);
            }
            k23vm_val g = v_i32(15);
            assert_int_equal(call_i32(s, func_of(inst, "grow"), &g, 1, &r), 0);
            assert_int_equal(r, 1);
            const int32_t edges[][3] = {
                {-1, 0, 1}, {0, -1, 1}, {-1, -1, -1}, {1, 0, -1}, {0, 1, -1}, {(int32_t)0x100001, 0, 0}, {-16, 0, 17},
            };
            for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
                k23vm_val a[3] = {v_i32(edges[i][0]), v_i32(edges[i][1]), v_i32(edges[i][2])};
                assert_int_equal(call_i32(s, func_of(inst, "copy"), a, 3, NULL), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
                assert_int_equal(call_i32(s, func_of(inst, "init"), a, 3, NULL), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
                assert_int_equal(call_i32(s, func_of(inst, "tcopy"), a, 3, NULL), K23VM_TRAP_TABLE_OUT_OF_BOUNDS);
                assert_int_equal(call_i32(s, func_of(inst, "tinit"), a, 3, NULL), K23VM_TRAP_TABLE_OUT_OF_BOUNDS);
                k23vm_val f[2] = {a[0], a[2]};
                uint64_t end = (uint64_t)(uint32_t)edges[i][0] + (uint32_t)edges[i][2];
                assert_int_equal(call_i32(s, func_of(inst, "fill"), f, 2, NULL),
                                 end > 16 * 65536 ? K23VM_TRAP_MEMORY_OUT_OF_BOUNDS : 0);
                assert_int_equal(call_i32(s, func_of(inst, "tfill"), f, 2, NULL),
                                 end > 4 ? K23VM_TRAP_TABLE_OUT_OF_BOUNDS : 0);
            }
            const int32_t addrs[] = {0, 0x10, 0x11, -1, 0x7fffffff};
            for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
                k23vm_val a = v_i32(addrs[i]);
                assert_int_equal(call_i32(s, func_of(inst, "load"), &a, 1, NULL), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
                k23vm_val res;
                trap = NULL;
                ok(k23vm_func_call(s, func_of(inst, "load64"), &a, 1, &res, 1, &trap));
                assert_non_null(trap);
                assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
                k23vm_trap_delete(trap);
            }
            k23vm_val last = v_i32(16 * 65536 - 1), past = v_i32(16 * 65536);
            assert_int_equal(call_i32(s, func_of(inst, "store8"), &last, 1, NULL), 0);
            assert_int_equal(call_i32(s, func_of(inst, "store8"), &past, 1, NULL), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
            k23vm_store_delete(s);
            k23vm_module_delete(m);
            k23vm_engine_delete(e);
        }
}

/* Active segments whose offset + length passes 2^32 (4.5.4: table.init / memory.init). */
static void segments_near_2_32(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "(module (memory 1) (data (i32.const -1) \"ab\"))",
        "(module (memory 1) (data (i32.const 65535) \"ab\"))",
        "(module (memory 1) (data (i32.const 65537) \"\"))",
        "(module (memory 0) (data (i32.const -4) \"abcd\"))",
        "(module (table 1 funcref) (func $f) (elem (i32.const -1) $f $f))",
        "(module (table 1 funcref) (func $f) (elem (i32.const 2) func))",
    };
    for (size_t mi = 0; mi < 2; mi++)
        for (size_t ai = 0; ai < 2; ai++) {
            k23vm_engine *e = small_engine(modes[mi], allocs[ai]);
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                k23vm_module *m = module_of(e, bad[i]);
                k23vm_store *s = NULL;
                ok(k23vm_store_new(e, NULL, &s));
                k23vm_instance *inst = NULL;
                k23vm_trap *trap = NULL;
                k23vm_error *err = k23vm_instance_new(s, m, NULL, 0, &inst, &trap);
                assert_non_null(err);
                assert_int_equal(k23vm_error_kind_of(err), K23VM_ERROR_UNINSTANTIABLE);
                assert_non_null(trap);
                assert_null(inst);
                k23vm_error_delete(err);
                k23vm_trap_delete(trap);
                k23vm_store_delete(s);
                k23vm_module_delete(m);
            }
            k23vm_engine_delete(e);
        }
}

/* ---- pooled slots: the next user sees zeros -------------------------------------------------------- */

static const char *dirty_wat =
    "(module\n"
    "  (memory (export \"mem\") 1 16)\n"
    "  (table $t 2 16 funcref)\n"
    "  (global $g (mut i32) (i32.const 0))\n"
    "  (func $f)\n"
    "  (elem declare func $f)\n"
    "  (func (export \"dirty\")\n"
    "    (drop (memory.grow (i32.const 3)))\n"
    "    (memory.fill (i32.const 0) (i32.const 0xab) (i32.const 262144))\n"
    "    (drop (table.grow $t (ref.func $f) (i32.const 14)))\n"
    "    (global.set $g (i32.const 0x5a5a5a5a)))\n"
    "  (func (export \"sum\") (result i32) (local $i i32) (local $acc i32)\n"
    "    (drop (memory.grow (i32.const 3)))\n"
    "    (drop (table.grow $t (ref.null func) (i32.const 14)))\n"
    "    (block $out (loop $l\n"
    "      (br_if $out (i32.ge_u (local.get $i) (i32.const 262144)))\n"
    "      (local.set $acc (i32.or (local.get $acc) (i32.load8_u (local.get $i))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (local.set $i (i32.const 0))\n"
    "    (block $out (loop $l\n"
    "      (br_if $out (i32.ge_u (local.get $i) (i32.const 16)))\n"
    "      (if (i32.eqz (ref.is_null (table.get $t (local.get $i)))) (then (local.set $acc (i32.const -1))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br $l)))\n"
    "    (i32.or (local.get $acc) (global.get $g)))\n"
    ")\n";

static void pool_reuse_is_clean(void **state)
{
    (void)state;
    for (size_t mi = 0; mi < 2; mi++) {
        k23vm_engine *e = small_engine(modes[mi], K23VM_ALLOCATOR_POOLING);
        k23vm_module *m = module_of(e, dirty_wat);
        for (int round = 0; round < 6; round++) {
            k23vm_store *s = NULL;
            ok(k23vm_store_new(e, NULL, &s));
            k23vm_instance *inst = NULL;
            k23vm_trap *trap = NULL;
            ok(k23vm_instance_new(s, m, NULL, 0, &inst, &trap));
            int32_t r = -7;
            if (round % 2 == 0) {
                assert_int_equal(call_i32(s, func_of(inst, "dirty"), NULL, 0, NULL), 0);
            } else {
                assert_int_equal(call_i32(s, func_of(inst, "sum"), NULL, 0, &r), 0);
                assert_int_equal(r, 0);
            }
            k23vm_store_delete(s);
        }
        k23vm_module_delete(m);
        k23vm_engine_delete(e);
    }
}

/* ---- the API with NULL and mismatched arguments ------------------------------------------------------ */

static void api_null_and_mismatch(void **state)
{
    (void)state;
    k23vm_engine *e = small_engine(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_module *m = module_of(e, bounds_wat);
    k23vm_store *s1 = NULL, *s2 = NULL;
    ok(k23vm_store_new(e, NULL, &s1));
    ok(k23vm_store_new(e, NULL, &s2));
    k23vm_instance *i1 = NULL, *i2 = NULL;
    k23vm_trap *trap = NULL;
    ok(k23vm_instance_new(s1, m, NULL, 0, &i1, &trap));
    ok(k23vm_instance_new(s2, m, NULL, 0, &i2, &trap));
    k23vm_func *f1 = func_of(i1, "grow");
    k23vm_val a = v_i32(0), res;
    k23vm_error *err = k23vm_func_call(s2, f1, &a, 1, &res, 1, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    err = k23vm_func_call(s1, f1, NULL, 1, &res, 1, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    err = k23vm_func_call(s1, f1, &a, 1, NULL, 1, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    /* A funcref of another store, through every door. */
    k23vm_val fr = {.kind = K23VM_FUNCREF, .of.funcref = f1};
    k23vm_extern tx;
    assert_true(k23vm_instance_export(i2, "tab", 3, &tx));
    err = k23vm_table_set(tx.of.table, 0, &fr);
    assert_non_null(err);
    k23vm_error_delete(err);
    assert_int_equal(k23vm_table_grow(tx.of.table, 1, &fr), -1);
    k23vm_global *g = NULL;
    err = k23vm_global_new(s2, K23VM_FUNCREF, true, &fr, &g);
    assert_non_null(err);
    k23vm_error_delete(err);
    k23vm_table *t = NULL;
    k23vm_limits lim = {1, 0, false};
    err = k23vm_table_new(s2, K23VM_FUNCREF, &lim, &fr, &t);
    assert_non_null(err);
    k23vm_error_delete(err);
    /* Imports of another store. */
    k23vm_module *mi = module_of(e, "(module (import \"a\" \"f\" (func (param i32) (result i32))))");
    k23vm_extern imp = {.kind = K23VM_EXTERN_FUNC, .of.func = f1};
    k23vm_instance *ix = NULL;
    err = k23vm_instance_new(s2, mi, &imp, 1, &ix, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    imp.kind = (k23vm_externkind)99;
    err = k23vm_instance_new(s1, mi, &imp, 1, &ix, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    /* NULL everywhere. */
    assert_null(k23vm_memory_data(NULL));
    assert_int_equal(k23vm_memory_grow(NULL, 1), -1);
    assert_int_equal(k23vm_table_grow(NULL, 1, NULL), -1);
    assert_false(k23vm_table_get(NULL, 0, &res));
    k23vm_global_get(NULL, &res);
    assert_false(k23vm_instance_export(NULL, "x", 1, &tx));
    assert_false(k23vm_instance_export(i1, NULL, 1, &tx));
    assert_null(k23vm_caller_memory(NULL));
    k23vm_linker *l = NULL;
    ok(k23vm_linker_new(e, &l));
    assert_false(k23vm_linker_get(l, "a", 1, "f", 1, &tx));
    k23vm_extern fx = {.kind = K23VM_EXTERN_FUNC, .of.func = f1};
    ok(k23vm_linker_define(l, NULL, 0, NULL, 0, &fx));
    assert_true(k23vm_linker_get(l, NULL, 0, NULL, 0, &tx));
    err = k23vm_linker_instantiate(l, s2, mi, &ix, &trap);
    assert_non_null(err);
    k23vm_error_delete(err);
    k23vm_linker_delete(l);
    k23vm_store_delete(s1);
    k23vm_store_delete(s2);
    k23vm_module_delete(mi);
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
}

/* ---- signals that are not faults ----------------------------------------------------------------------
 * A SIGSEGV sent with kill/raise/sigqueue (si_code <= 0) is not a fault of any instruction: it
 * is never wasm's, and returning from the handler does not raise it again. With the default
 * disposition the process must still die of it; when the program ignores SIGSEGV, it must stay
 * ignored and leave the guard-page handler in place, so that the next out-of-bounds access of a
 * guest is still a trap and not the death of the host. */
static volatile sig_atomic_t seen_segv;

static void count_segv(int sig)
{
    (void)sig;
    seen_segv++;
}

/* kind 0: default disposition, 1: ignored, 2: the program's own (plain) handler. */
static int sent_segv_child(int kind)
{
    bool ignored = kind == 1;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, kind == 0 ? SIG_DFL : kind == 1 ? SIG_IGN : count_segv);
        signal(SIGBUS, SIG_DFL);
        k23vm_engine_config cfg;
        k23vm_engine_config_init(&cfg);
        cfg.bounds = K23VM_BOUNDS_GUARD;
        k23vm_engine *e = NULL;
        if (k23vm_engine_new(&cfg, &e)) _exit(3);
        k23vm_store *s = NULL;
        if (k23vm_store_new(e, NULL, &s)) _exit(3);
        raise(SIGSEGV);
        if (kind == 2) _exit(seen_segv == 1 ? 42 : 6); /* chained to the program's handler */
        if (!ignored) _exit(0); /* survived a SIGSEGV of default disposition: wrong */
        size_t len;
        uint8_t *bytes = wat("(module (memory 1) (func (export \"f\") (result i32) (i32.load (i32.const 65536))))",
                             &len);
        k23vm_module *m = NULL;
        k23vm_instance *inst = NULL;
        k23vm_trap *trap = NULL;
        if (k23vm_module_new(e, bytes, len, &m) || k23vm_instance_new(s, m, NULL, 0, &inst, &trap)) _exit(3);
        k23vm_val r;
        if (k23vm_func_call(s, func_of(inst, "f"), NULL, 0, &r, 1, &trap) || !trap) _exit(4);
        _exit(k23vm_trap_code_of(trap) == K23VM_TRAP_MEMORY_OUT_OF_BOUNDS ? 42 : 5);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static void sent_signals(void **state)
{
    (void)state;
    int st = sent_segv_child(0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    st = sent_segv_child(1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);
    st = sent_segv_child(2);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounds_near_2_32),
        cmocka_unit_test(segments_near_2_32),
        cmocka_unit_test(pool_reuse_is_clean),
        cmocka_unit_test(api_null_and_mismatch),
        cmocka_unit_test(sent_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
