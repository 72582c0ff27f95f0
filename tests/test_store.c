/* test_store.c - cmocka tests of the store and its objects (src/store/, the runtime part of
 * include/k23vm.h): store lifecycle, function type interning, instantiation in the spec's order
 * with its link errors and its partially initialised state, exports, memories (grow and the
 * store's cap), tables, globals, host functions (raw and typed) and their argument checks, the
 * linker, the pooling allocator (slot reuse, zeroed reuse, exhaustion, speed), and allocation
 * failure injected at every allocation of a whole embedding scenario. Modules are written in the
 * text format here and converted with wat2wasm at run time. Wasm execution itself (fuel,
 * interrupt, recursion, out-of-bounds traps) is in test_limits.c. */
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

#include "k23vm.h"
#include "runtime.h"

/* ---- helpers ----------------------------------------------------------------------------------- */

static void expect_error(k23vm_error *err, k23vm_error_kind kind, const char *prefix)
{
    if (!err) fail_msg("expected error kind %d \"%s\", got success", (int)kind, prefix);
    const char *msg = k23vm_error_message(err);
    if (k23vm_error_kind_of(err) != kind || strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("expected error kind %d \"%s\", got kind %d \"%s\"", (int)kind, prefix, (int)k23vm_error_kind_of(err),
                 msg);
    k23vm_error_delete(err);
}

static k23vm_store *store_of(k23vm_engine *e)
{
    k23vm_store *s = NULL;
    ok(k23vm_store_new(e, NULL, &s));
    return s;
}

static k23vm_val v_i32(int32_t x) { return (k23vm_val){.kind = K23VM_I32, .of.i32 = x}; }
static k23vm_val v_i64(int64_t x) { return (k23vm_val){.kind = K23VM_I64, .of.i64 = x}; }
static k23vm_val v_f32(float x) { return (k23vm_val){.kind = K23VM_F32, .of.f32 = x}; }
static k23vm_val v_f64(double x) { return (k23vm_val){.kind = K23VM_F64, .of.f64 = x}; }
static k23vm_val v_func(k23vm_func *f) { return (k23vm_val){.kind = K23VM_FUNCREF, .of.funcref = f}; }

static k23vm_extern x_func(k23vm_func *f) { return (k23vm_extern){.kind = K23VM_EXTERN_FUNC, .of.func = f}; }
static k23vm_extern x_mem(k23vm_memory *m) { return (k23vm_extern){.kind = K23VM_EXTERN_MEMORY, .of.memory = m}; }
static k23vm_extern x_table(k23vm_table *t) { return (k23vm_extern){.kind = K23VM_EXTERN_TABLE, .of.table = t}; }
static k23vm_extern x_global(k23vm_global *g) { return (k23vm_extern){.kind = K23VM_EXTERN_GLOBAL, .of.global = g}; }

static k23vm_extern export_of(k23vm_instance *inst, const char *name, k23vm_externkind kind)
{
    k23vm_extern x;
    if (!k23vm_instance_export(inst, name, strlen(name), &x)) fail_msg("no export %s", name);
    assert_int_equal(x.kind, kind);
    return x;
}

/* A host function: (i32) -> i32, returns arg + *env. */
static k23vm_trap *add_env(void *env, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    (void)caller;
    assert_int_equal(nargs, 1);
    assert_int_equal(nresults, 1);
    assert_int_equal(ar[0].kind, K23VM_I32);
    ar[0].of.i32 += *(int32_t *)env;
    return NULL;
}

static k23vm_func *host_add(k23vm_store *s, int32_t *env)
{
    static const k23vm_valkind i[] = {K23VM_I32};
    k23vm_functype ft = {1, 1, i, i};
    k23vm_func *f = NULL;
    ok(k23vm_func_new(s, &ft, add_env, env, NULL, &f));
    return f;
}

static k23vm_trap *typed_mix(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results);

/* ---- stores --------------------------------------------------------------------------------------- */

static int finalized;
static void count_final(void *p)
{
    (void)p;
    finalized++;
}

static void store_lifecycle(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = NULL;
    expect_error(k23vm_store_new(NULL, NULL, &s), K23VM_ERROR_ARGUMENT, "null argument");
    assert_null(s);
    expect_error(k23vm_store_new(e, NULL, NULL), K23VM_ERROR_ARGUMENT, "null argument");
    k23vm_store_delete(NULL);

    k23vm_store_config cfg;
    k23vm_store_config_init(&cfg);
    ok(k23vm_store_new(e, &cfg, &s));
    assert_ptr_equal(k23vm_store_engine(s), e);
    expect_error(k23vm_store_set_fuel(s, 10), K23VM_ERROR_ARGUMENT, "fuel");
    assert_int_equal(k23vm_store_get_fuel(s), 0);
    finalized = 0;
    int dummy;
    k23vm_store_set_data(s, &dummy, count_final);
    assert_ptr_equal(k23vm_store_data(s), &dummy);
    int32_t env = 1;
    static const k23vm_valkind i[] = {K23VM_I32};
    k23vm_functype ft = {1, 1, i, i};
    k23vm_func *f;
    ok(k23vm_func_new(s, &ft, add_env, &env, count_final, &f));
    k23vm_store_delete(s);
    assert_int_equal(finalized, 2); /* store data and the host function's env */

    cfg.fuel = true;
    ok(k23vm_store_new(e, &cfg, &s));
    ok(k23vm_store_set_fuel(s, 1234));
    assert_int_equal(k23vm_store_get_fuel(s), 1234);
    ok(k23vm_store_set_fuel(s, UINT64_MAX));
    assert_int_equal(k23vm_store_get_fuel(s), INT64_MAX);
    k23vm_store_interrupt(s); /* no code runs: the request waits */
    k23vm_store_delete(s);
    k23vm_engine_delete(e);
}

static void type_interning(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e);
    int32_t env = 0;
    k23vm_func *a = host_add(s, &env), *b = host_add(s, &env), *c = NULL;
    ok(k23vm_func_new_typed(s, "i>i", typed_mix, NULL, NULL, &c));
    assert_int_equal(a->type_id, c->type_id);
    k23vm_func *d = NULL;
    static const k23vm_valkind two[] = {K23VM_I32, K23VM_I64};
    k23vm_functype ft2 = {2, 0, two, NULL};
    ok(k23vm_func_new(s, &ft2, add_env, &env, NULL, &d));
    assert_int_equal(a->type_id, b->type_id);
    assert_int_not_equal(a->type_id, d->type_id);

    /* A wasm function of the same type shares the id; many distinct types stay distinct. */
    k23vm_module *m = module_of(e, "(module (func (export \"f\") (param i32) (result i32) local.get 0)"
                                   "  (func (export \"g\") (param i32 i64)))");
    k23vm_instance *inst = NULL;
    ok(k23vm_instance_new(s, m, NULL, 0, &inst, NULL));
    assert_int_equal(export_of(inst, "f", K23VM_EXTERN_FUNC).of.func->type_id, a->type_id);
    assert_int_equal(export_of(inst, "g", K23VM_EXTERN_FUNC).of.func->type_id, d->type_id);
    uint32_t ids[300];
    for (int k = 0; k < 300; k++) {
        k23vm_valkind ps[9];
        for (int bit = 0; bit < 9; bit++) ps[bit] = (k >> bit) & 1 ? K23VM_I64 : K23VM_F32;
        k23vm_functype ft = {9, 0, ps, NULL};
        k23vm_func *f;
        ok(k23vm_func_new(s, &ft, add_env, &env, NULL, &f));
        ids[k] = f->type_id;
        for (int j = 0; j < k; j++) assert_int_not_equal(ids[j], ids[k]);
    }
    k23vm_store_delete(s);
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
}

/* ---- instantiation -------------------------------------------------------------------------------- */

static const char *full_module =
    "(module\n"
    "  (import \"env\" \"f\" (func $f (param i32) (result i32)))\n"
    "  (import \"env\" \"mem\" (memory 1))\n"
    "  (import \"env\" \"tab\" (table 2 funcref))\n"
    "  (import \"env\" \"g\" (global $g i32))\n"
    "  (table $t2 3 externref)\n"
    "  (global $h (mut i64) (i64.const 7))\n"
    "  (global $k i32 (global.get $g))\n"
    "  (global $r funcref (ref.func $id))\n"
    "  (global $v v128 (v128.const i32x4 1 2 3 4))\n"
    "  (func $id (param i32) (result i32) local.get 0)\n"
    "  (elem (i32.const 0) $id $f)\n"
    "  (elem declare func $id)\n"
    "  (elem $p funcref (ref.func $id) (ref.null func))\n"
    "  (data (i32.const 16) \"hello\")\n"
    "  (data $pd \"passive\")\n"
    "  (export \"id\" (func $id)) (export \"f\" (func $f)) (export \"h\" (global $h))\n"
    "  (export \"k\" (global $k)) (export \"r\" (global $r)) (export \"v\" (global $v))\n"
    "  (export \"t2\" (table $t2)) (export \"mem\" (memory 0)) (export \"tab\" (table 0)))\n";

typedef struct env_objs {
    int32_t add;
    k23vm_func *f;
    k23vm_memory *mem;
    k23vm_table *tab;
    k23vm_global *g;
} env_objs;

static void make_env(k23vm_store *s, env_objs *o)
{
    o->add = 100;
    o->f = host_add(s, &o->add);
    k23vm_limits one = {1, 0, false}, two = {2, 0, false};
    ok(k23vm_memory_new(s, &one, &o->mem));
    ok(k23vm_table_new(s, K23VM_FUNCREF, &two, NULL, &o->tab));
    k23vm_val g = v_i32(42);
    ok(k23vm_global_new(s, K23VM_I32, false, &g, &o->g));
}

static void instantiate_full(void **state)
{
    (void)state;
    k23vm_allocator_kind kinds[] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};
    k23vm_bounds_mode bounds[] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    for (int ka = 0; ka < 2; ka++)
        for (int kb = 0; kb < 2; kb++) {
            k23vm_engine *e = engine_with(bounds[kb], kinds[ka]);
            k23vm_module *m = module_of(e, full_module);
            k23vm_store *s = store_of(e);
            env_objs o;
            make_env(s, &o);
            k23vm_extern imports[] = {x_func(o.f), x_mem(o.mem), x_table(o.tab), x_global(o.g)};
            k23vm_instance *inst = NULL;
            k23vm_trap *trap = NULL;
            ok(k23vm_instance_new(s, m, imports, 4, &inst, &trap));
            assert_non_null(inst);
            assert_null(trap);
            assert_ptr_equal(k23vm_instance_module(inst), m);

            /* Data segment written to the imported memory. */
            assert_memory_equal(k23vm_memory_data(o.mem) + 16, "hello", 5);
            /* Element segment written to the imported table: $id, then the imported $f. */
            k23vm_val v;
            k23vm_func *id = export_of(inst, "id", K23VM_EXTERN_FUNC).of.func;
            assert_true(k23vm_table_get(o.tab, 0, &v));
            assert_int_equal(v.kind, K23VM_FUNCREF);
            assert_ptr_equal(v.of.funcref, id);
            assert_true(k23vm_table_get(o.tab, 1, &v));
            assert_ptr_equal(v.of.funcref, o.f);
            assert_ptr_equal(export_of(inst, "f", K23VM_EXTERN_FUNC).of.func, o.f);
            assert_ptr_equal(export_of(inst, "mem", K23VM_EXTERN_MEMORY).of.memory, o.mem);
            assert_ptr_equal(export_of(inst, "tab", K23VM_EXTERN_TABLE).of.table, o.tab);
            const k23vm_functype *ft = k23vm_func_type(id);
            assert_int_equal(ft->nparams, 1);
            assert_int_equal(ft->params[0], K23VM_I32);
            assert_int_equal(ft->results[0], K23VM_I32);

            /* Globals evaluated from their constant expressions. */
            k23vm_global *h = export_of(inst, "h", K23VM_EXTERN_GLOBAL).of.global;
            k23vm_global_get(h, &v);
            assert_int_equal(v.kind, K23VM_I64);
            assert_int_equal(v.of.i64, 7);
            k23vm_global_get(export_of(inst, "k", K23VM_EXTERN_GLOBAL).of.global, &v);
            assert_int_equal(v.of.i32, 42);
            k23vm_global_get(export_of(inst, "r", K23VM_EXTERN_GLOBAL).of.global, &v);
            assert_ptr_equal(v.of.funcref, id);
            k23vm_global_get(export_of(inst, "v", K23VM_EXTERN_GLOBAL).of.global, &v);
            assert_int_equal(v.kind, K23VM_V128);
            assert_int_equal(v.of.v128[0], 1);
            assert_int_equal(v.of.v128[12], 4);
            k23vm_valkind gk;
            bool mut;
            k23vm_global_type(h, &gk, &mut);
            assert_int_equal(gk, K23VM_I64);
            assert_true(mut);

            /* The module's own table, null-initialised. */
            k23vm_table *t2 = export_of(inst, "t2", K23VM_EXTERN_TABLE).of.table;
            assert_int_equal(k23vm_table_size(t2), 3);
            assert_true(k23vm_table_get(t2, 2, &v));
            assert_int_equal(v.kind, K23VM_EXTERNREF);
            assert_null(v.of.externref);

            /* Segment instances: active and declarative dropped, passive kept. */
            assert_int_equal(inst->elem_len[0], 0);
            assert_int_equal(inst->elem_len[1], 0);
            assert_int_equal(inst->elem_len[2], 2);
            assert_ptr_equal(inst->elem_refs[2][0], id);
            assert_null(inst->elem_refs[2][1]);
            assert_int_equal(inst->data_len[0], 0);
            assert_int_equal(inst->data_len[1], 7);

            /* Exports by index. */
            assert_int_equal(k23vm_instance_export_count(inst), 9);
            k23vm_name name;
            k23vm_extern x;
            assert_true(k23vm_instance_export_at(inst, 0, &name, &x));
            assert_int_equal(name.len, 2);
            assert_memory_equal(name.ptr, "id", 2);
            assert_ptr_equal(x.of.func, id);
            assert_false(k23vm_instance_export_at(inst, 9, &name, &x));
            assert_false(k23vm_instance_export(inst, "nope", 4, &x));

            /* The imported host function through its export. */
            k23vm_val arg = v_i32(5), res;
            ok(k23vm_func_call(s, o.f, &arg, 1, &res, 1, &trap));
            assert_null(trap);
            assert_int_equal(res.of.i32, 105);

            /* A second instance of the same module in the same store. */
            k23vm_instance *inst2 = NULL;
            ok(k23vm_instance_new(s, m, imports, 4, &inst2, NULL));
            assert_ptr_not_equal(inst2, inst);
            assert_ptr_not_equal(export_of(inst2, "id", K23VM_EXTERN_FUNC).of.func, id);
            k23vm_store_delete(s);
            k23vm_module_delete(m);
            k23vm_engine_delete(e);
        }
}

static void link_errors(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_module *m = module_of(e, full_module);
    k23vm_store *s = store_of(e), *other = store_of(e);
    env_objs o, oo;
    make_env(s, &o);
    make_env(other, &oo);
    k23vm_instance *inst = NULL;
    k23vm_trap *trap = NULL;
    k23vm_extern good[] = {x_func(o.f), x_mem(o.mem), x_table(o.tab), x_global(o.g)};
    k23vm_extern bad[4];

    expect_error(k23vm_instance_new(s, m, good, 3, &inst, &trap), K23VM_ERROR_UNLINKABLE, "wrong number of imports");
    /* Kind. */
    memcpy(bad, good, sizeof bad);
    bad[0] = x_global(o.g);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    /* Function type. */
    int32_t env = 0;
    static const k23vm_valkind i64[] = {K23VM_I64};
    k23vm_functype ft = {1, 1, i64, i64};
    k23vm_func *wrong = NULL;
    ok(k23vm_func_new(s, &ft, add_env, &env, NULL, &wrong));
    memcpy(bad, good, sizeof bad);
    bad[0] = x_func(wrong);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    /* Table element type. */
    k23vm_table *xt = NULL;
    k23vm_limits two = {2, 0, false};
    ok(k23vm_table_new(s, K23VM_EXTERNREF, &two, NULL, &xt));
    memcpy(bad, good, sizeof bad);
    bad[2] = x_table(xt);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    /* Table too small. */
    k23vm_table *small = NULL;
    k23vm_limits one = {1, 0, false};
    ok(k23vm_table_new(s, K23VM_FUNCREF, &one, NULL, &small));
    bad[2] = x_table(small);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    /* ...but a table grown to size matches: the current size counts (4.5.2). */
    assert_int_equal(k23vm_table_grow(small, 1, NULL), 1);
    ok(k23vm_instance_new(s, m, bad, 4, &inst, &trap));
    /* Global mutability and type. */
    k23vm_global *mg = NULL, *i64g = NULL;
    k23vm_val v = v_i32(1), w = v_i64(1);
    ok(k23vm_global_new(s, K23VM_I32, true, &v, &mg));
    ok(k23vm_global_new(s, K23VM_I64, false, &w, &i64g));
    memcpy(bad, good, sizeof bad);
    bad[3] = x_global(mg);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    bad[3] = x_global(i64g);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    /* Another store's object. */
    memcpy(bad, good, sizeof bad);
    bad[1] = x_mem(oo.mem);
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_ARGUMENT, "import 1");
    bad[1] = (k23vm_extern){.kind = K23VM_EXTERN_MEMORY, .of.memory = NULL};
    expect_error(k23vm_instance_new(s, m, bad, 4, &inst, &trap), K23VM_ERROR_ARGUMENT, "import 1");
    assert_null(trap);

    /* Memory limits (4.5.1 limits subtyping): min at least, max present and at most. */
    k23vm_module *mm = module_of(e, "(module (import \"env\" \"m\" (memory 1 2)))");
    struct {
        k23vm_limits lim;
        bool match;
    } cases[] = {
        {{1, 2, true}, true}, {{2, 2, true}, true}, {{1, 1, true}, true}, {{0, 2, true}, false},
        {{1, 3, true}, false}, {{1, 0, false}, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        k23vm_memory *mem = NULL;
        ok(k23vm_memory_new(s, &cases[k].lim, &mem));
        k23vm_extern x = x_mem(mem);
        k23vm_error *err = k23vm_instance_new(s, mm, &x, 1, &inst, &trap);
        if (cases[k].match) ok(err);
        else expect_error(err, K23VM_ERROR_UNLINKABLE, "incompatible import type");
    }
    /* A memory grown past the import's maximum no longer matches a maximum... its max does. */
    k23vm_memory *grown = NULL;
    k23vm_limits l02 = {0, 2, true};
    ok(k23vm_memory_new(s, &l02, &grown));
    k23vm_extern xg = x_mem(grown);
    expect_error(k23vm_instance_new(s, mm, &xg, 1, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    assert_int_equal(k23vm_memory_grow(grown, 1), 0);
    ok(k23vm_instance_new(s, mm, &xg, 1, &inst, &trap));

    /* The linker: unknown import, and success once everything is defined. */
    k23vm_linker *l = NULL;
    ok(k23vm_linker_new(e, &l));
    ok(k23vm_linker_define(l, "env", 3, "f", 1, &good[0]));
    expect_error(k23vm_linker_instantiate(l, s, m, &inst, &trap), K23VM_ERROR_UNLINKABLE, "unknown import");
    ok(k23vm_linker_define(l, "env", 3, "mem", 3, &good[1]));
    ok(k23vm_linker_define(l, "env", 3, "tab", 3, &good[2]));
    ok(k23vm_linker_define(l, "env", 3, "g", 1, &bad[0])); /* wrong kind first ... */
    expect_error(k23vm_linker_instantiate(l, s, m, &inst, &trap), K23VM_ERROR_UNLINKABLE, "incompatible import type");
    ok(k23vm_linker_define(l, "env", 3, "g", 1, &good[3])); /* ... then replaced */
    inst = NULL;
    ok(k23vm_linker_instantiate(l, s, m, &inst, &trap));
    assert_non_null(inst);
    /* Register the instance and link a second module against it. */
    ok(k23vm_linker_define_instance(l, "M", 1, inst));
    k23vm_extern x;
    assert_true(k23vm_linker_get(l, "M", 1, "id", 2, &x));
    assert_ptr_equal(x.of.func, export_of(inst, "id", K23VM_EXTERN_FUNC).of.func);
    assert_false(k23vm_linker_get(l, "M", 1, "nope", 4, &x));
    k23vm_module *user = module_of(e, "(module (import \"M\" \"id\" (func (param i32) (result i32)))"
                                      "  (import \"M\" \"h\" (global (mut i64))) (import \"M\" \"mem\" (memory 1)))");
    k23vm_instance *ui = NULL;
    ok(k23vm_linker_instantiate(l, s, user, &ui, &trap));
    /* The same linker with another store's instantiation: its externs are of store s. */
    expect_error(k23vm_linker_instantiate(l, other, user, &ui, &trap), K23VM_ERROR_ARGUMENT, "import");
    /* Many names: the index grows. */
    for (int k = 0; k < 1000; k++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        ok(k23vm_linker_define(l, "many", 4, name, strlen(name), &good[0]));
    }
    for (int k = 0; k < 1000; k += 37) {
        char name[16];
        snprintf(name, sizeof name, "n%d", k);
        assert_true(k23vm_linker_get(l, "many", 4, name, strlen(name), &x));
    }
    assert_true(k23vm_linker_get(l, "env", 3, "g", 1, &x));
    assert_ptr_equal(x.of.global, o.g);
    k23vm_linker_delete(l);

    k23vm_store_delete(s);
    k23vm_store_delete(other);
    k23vm_module_delete(m);
    k23vm_module_delete(mm);
    k23vm_module_delete(user);
    k23vm_engine_delete(e);
}

/* 2.0 (4.5.4): segments are applied one by one; a segment out of bounds traps after the earlier
 * ones wrote, and the writes stay visible through imported tables and memories. */
static void partial_instantiation(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e);
    env_objs o;
    make_env(s, &o);
    k23vm_instance *inst = (k23vm_instance *)1;
    k23vm_trap *trap = NULL;

    k23vm_module *et = module_of(e, "(module (import \"env\" \"tab\" (table 2 funcref))\n"
                                    "  (import \"env\" \"mem\" (memory 1))\n"
                                    "  (func $a) (elem (i32.const 0) $a) (elem (i32.const 2) $a)\n"
                                    "  (data (i32.const 0) \"never\"))");
    k23vm_extern ex[] = {x_table(o.tab), x_mem(o.mem)};
    expect_error(k23vm_instance_new(s, et, ex, 2, &inst, &trap), K23VM_ERROR_UNINSTANTIABLE,
                 "out of bounds table access");
    assert_null(inst);
    assert_non_null(trap);
    assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_TABLE_OUT_OF_BOUNDS);
    assert_string_equal(k23vm_trap_message(trap), "out of bounds table access");
    k23vm_trap_delete(trap);
    k23vm_val v;
    assert_true(k23vm_table_get(o.tab, 0, &v));
    assert_non_null(v.of.funcref); /* the first segment's write stays */
    assert_int_equal(k23vm_func_type(v.of.funcref)->nparams, 0);
    assert_int_equal(k23vm_memory_data(o.mem)[0], 0); /* data segments never ran */

    /* An empty segment past the end traps too (the check is offset + n > size). */
    k23vm_module *empty = module_of(e, "(module (import \"env\" \"tab\" (table 2 funcref))"
                                       "  (elem (i32.const 3) func))");
    k23vm_extern xt = x_table(o.tab);
    expect_error(k23vm_instance_new(s, empty, &xt, 1, &inst, NULL), K23VM_ERROR_UNINSTANTIABLE,
                 "out of bounds table access");
    k23vm_module *atend = module_of(e, "(module (import \"env\" \"tab\" (table 2 funcref))"
                                       "  (elem (i32.const 2) func))");
    ok(k23vm_instance_new(s, atend, &xt, 1, &inst, NULL));

    k23vm_module *dm = module_of(e, "(module (import \"env\" \"mem\" (memory 1))\n"
                                    "  (data (i32.const 0) \"abc\") (data (i32.const 65534) \"xyz\")"
                                    "  (data (i32.const 3) \"def\"))");
    k23vm_extern xm = x_mem(o.mem);
    trap = NULL;
    expect_error(k23vm_instance_new(s, dm, &xm, 1, &inst, &trap), K23VM_ERROR_UNINSTANTIABLE,
                 "out of bounds memory access");
    assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_MEMORY_OUT_OF_BOUNDS);
    k23vm_trap_delete(trap);
    assert_memory_equal(k23vm_memory_data(o.mem), "abc\0\0\0", 6);
    assert_int_equal(k23vm_memory_data(o.mem)[65534], 0);

    /* Offsets from an imported global. */
    k23vm_module *gm = module_of(e, "(module (import \"env\" \"mem\" (memory 1)) (import \"env\" \"g\" (global i32))\n"
                                    "  (data (global.get 0) \"at42\"))");
    k23vm_extern xs[] = {x_mem(o.mem), x_global(o.g)};
    ok(k23vm_instance_new(s, gm, xs, 2, &inst, NULL));
    assert_memory_equal(k23vm_memory_data(o.mem) + 42, "at42", 4);

    k23vm_store_delete(s);
    k23vm_module_delete(et);
    k23vm_module_delete(empty);
    k23vm_module_delete(atend);
    k23vm_module_delete(dm);
    k23vm_module_delete(gm);
    k23vm_engine_delete(e);
}

/* ---- memories, tables, globals ------------------------------------------------------------------------ */

static void memory_ops(void **state)
{
    (void)state;
    k23vm_bounds_mode modes[] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    for (int k = 0; k < 2; k++) {
        k23vm_engine *e = engine_with(modes[k], K23VM_ALLOCATOR_PLAIN);
        k23vm_store_config cfg;
        k23vm_store_config_init(&cfg);
        cfg.max_memory_pages = 3;
        k23vm_store *s = NULL;
        ok(k23vm_store_new(e, &cfg, &s));
        k23vm_memory *m = NULL;
        k23vm_limits l = {1, 0, false};
        ok(k23vm_memory_new(s, &l, &m));
        assert_int_equal(k23vm_memory_size(m), 1);
        assert_int_equal(k23vm_memory_data_size(m), 65536);
        uint8_t *d = k23vm_memory_data(m);
        assert_non_null(d);
        assert_int_equal(d[0] | d[65535], 0);
        d[65535] = 9;
        assert_int_equal(k23vm_memory_grow(m, 0), 1);
        assert_int_equal(k23vm_memory_grow(m, 1), 1);
        d = k23vm_memory_data(m);
        assert_int_equal(d[65535], 9);
        assert_int_equal(d[65536] | d[2 * 65536 - 1], 0);
        assert_int_equal(k23vm_memory_grow(m, 2), -1); /* past the store's cap of 3 */
        assert_int_equal(k23vm_memory_grow(m, 1), 2);
        assert_int_equal(k23vm_memory_grow(m, 1), -1);
        assert_int_equal(k23vm_memory_grow(m, UINT64_MAX), -1);
        assert_int_equal(k23vm_memory_size(m), 3);
        k23vm_limits t;
        k23vm_memory_type(m, &t);
        assert_int_equal(t.min, 3);
        assert_false(t.has_max);
        assert_true(m->guard == (modes[k] == K23VM_BOUNDS_GUARD));

        /* The type's maximum. */
        k23vm_limits l2 = {0, 1, true};
        k23vm_memory *m2 = NULL;
        ok(k23vm_memory_new(s, &l2, &m2));
        assert_non_null(k23vm_memory_data(m2));
        assert_int_equal(k23vm_memory_grow(m2, 2), -1);
        assert_int_equal(k23vm_memory_grow(m2, 1), 0);
        assert_int_equal(k23vm_memory_grow(m2, 1), -1);

        /* Invalid types, and a minimum over the store's cap. */
        k23vm_limits bad1 = {65537, 0, false}, bad2 = {2, 1, true}, over = {4, 0, false};
        expect_error(k23vm_memory_new(s, &bad1, &m2), K23VM_ERROR_ARGUMENT, "memory limits");
        expect_error(k23vm_memory_new(s, &bad2, &m2), K23VM_ERROR_ARGUMENT, "memory limits");
        expect_error(k23vm_memory_new(s, &over, &m2), K23VM_ERROR_RESOURCE, "memory of 4 pages");
        k23vm_module *mod = module_of(e, "(module (memory 5))");
        k23vm_instance *inst = NULL;
        expect_error(k23vm_instance_new(s, mod, NULL, 0, &inst, NULL), K23VM_ERROR_RESOURCE, "memory of 5 pages");
        k23vm_store_delete(s);
        k23vm_module_delete(mod);
        k23vm_engine_delete(e);
    }
}

static void table_ops(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e), *other = store_of(e);
    int32_t env = 0;
    k23vm_func *f = host_add(s, &env), *of = host_add(other, &env);
    k23vm_table *t = NULL;
    k23vm_limits l = {2, 5, true};
    k23vm_val init = v_func(f);
    ok(k23vm_table_new(s, K23VM_FUNCREF, &l, &init, &t));
    k23vm_val v;
    assert_int_equal(k23vm_table_size(t), 2);
    assert_true(k23vm_table_get(t, 1, &v));
    assert_ptr_equal(v.of.funcref, f);
    assert_false(k23vm_table_get(t, 2, &v));
    k23vm_val null = v_func(NULL);
    ok(k23vm_table_set(t, 0, &null));
    assert_true(k23vm_table_get(t, 0, &v));
    assert_null(v.of.funcref);
    expect_error(k23vm_table_set(t, 2, &null), K23VM_ERROR_ARGUMENT, "out of bounds table access");
    k23vm_val i = v_i32(1), foreign = v_func(of);
    expect_error(k23vm_table_set(t, 0, &i), K23VM_ERROR_ARGUMENT, "table element");
    expect_error(k23vm_table_set(t, 0, &foreign), K23VM_ERROR_ARGUMENT, "table element");
    assert_int_equal(k23vm_table_grow(t, 2, &init), 2);
    assert_int_equal(k23vm_table_size(t), 4);
    assert_true(k23vm_table_get(t, 3, &v));
    assert_ptr_equal(v.of.funcref, f);
    assert_int_equal(k23vm_table_grow(t, 2, NULL), -1);
    assert_int_equal(k23vm_table_grow(t, 0, NULL), 4);
    assert_int_equal(k23vm_table_grow(t, 1, &i), -1);
    assert_int_equal(k23vm_table_grow(t, 1, NULL), 4);
    assert_true(k23vm_table_get(t, 4, &v));
    assert_null(v.of.funcref);
    k23vm_valkind ek;
    k23vm_limits tl;
    k23vm_table_type(t, &ek, &tl);
    assert_int_equal(ek, K23VM_FUNCREF);
    assert_int_equal(tl.min, 5);
    assert_int_equal(tl.max, 5);

    /* externref, grown one at a time (amortised), and a store cap on elements. */
    k23vm_table *x = NULL;
    k23vm_limits none = {0, 0, false};
    ok(k23vm_table_new(s, K23VM_EXTERNREF, &none, NULL, &x));
    k23vm_val ext = {.kind = K23VM_EXTERNREF, .of.externref = &env};
    for (int k = 0; k < 1000; k++) assert_int_equal(k23vm_table_grow(x, 1, &ext), k);
    assert_true(k23vm_table_get(x, 999, &v));
    assert_ptr_equal(v.of.externref, &env);
    expect_error(k23vm_table_new(s, K23VM_I32, &none, NULL, &x), K23VM_ERROR_ARGUMENT, "table element type");
    k23vm_limits badl = {3, 2, true};
    expect_error(k23vm_table_new(s, K23VM_FUNCREF, &badl, NULL, &x), K23VM_ERROR_ARGUMENT, "table limits");

    k23vm_store_config cfg;
    k23vm_store_config_init(&cfg);
    cfg.max_table_elements = 10;
    k23vm_store *capped = NULL;
    ok(k23vm_store_new(e, &cfg, &capped));
    k23vm_limits l8 = {8, 0, false}, l11 = {11, 0, false};
    ok(k23vm_table_new(capped, K23VM_FUNCREF, &l8, NULL, &x));
    assert_int_equal(k23vm_table_grow(x, 3, NULL), -1);
    assert_int_equal(k23vm_table_grow(x, 2, NULL), 8);
    expect_error(k23vm_table_new(capped, K23VM_FUNCREF, &l11, NULL, &x), K23VM_ERROR_RESOURCE, "table of 11");
    k23vm_store_delete(capped);
    k23vm_store_delete(s);
    k23vm_store_delete(other);
    k23vm_engine_delete(e);
}

static void global_ops(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e);
    k23vm_val vals[] = {v_i32(-5), v_i64(INT64_MIN), v_f32(1.5f), v_f64(-2.25), v_func(NULL),
                        {.kind = K23VM_EXTERNREF, .of.externref = &vals}, {.kind = K23VM_V128}};
    for (int k = 0; k < 16; k++) vals[6].of.v128[k] = (uint8_t)(k * 3);
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        k23vm_global *g = NULL;
        ok(k23vm_global_new(s, vals[k].kind, true, &vals[k], &g));
        k23vm_val out;
        k23vm_global_get(g, &out);
        assert_int_equal(out.kind, vals[k].kind);
        switch (out.kind) {
        case K23VM_I32: assert_int_equal(out.of.i32, -5); break;
        case K23VM_I64: assert_true(out.of.i64 == INT64_MIN); break;
        case K23VM_F32: assert_true(out.of.f32 == 1.5f); break;
        case K23VM_F64: assert_true(out.of.f64 == -2.25); break;
        case K23VM_V128: assert_memory_equal(out.of.v128, vals[6].of.v128, 16); break;
        case K23VM_FUNCREF: assert_null(out.of.funcref); break;
        default: assert_ptr_equal(out.of.externref, &vals); break;
        }
        ok(k23vm_global_set(g, &vals[k]));
        k23vm_val wrong = vals[(k + 1) % 6];
        expect_error(k23vm_global_set(g, &wrong), K23VM_ERROR_ARGUMENT, "global value");
    }
    k23vm_global *c = NULL;
    ok(k23vm_global_new(s, K23VM_I32, false, &vals[0], &c));
    expect_error(k23vm_global_set(c, &vals[0]), K23VM_ERROR_ARGUMENT, "global is immutable");
    expect_error(k23vm_global_new(s, K23VM_I64, false, &vals[0], &c), K23VM_ERROR_ARGUMENT, "global init value");
    expect_error(k23vm_global_new(s, (k23vm_valkind)0x40, false, &vals[0], &c), K23VM_ERROR_ARGUMENT, "global:");
    k23vm_store_delete(s);
    k23vm_engine_delete(e);
}

/* ---- host functions ------------------------------------------------------------------------------------ */

static k23vm_trap *host_trap(void *env, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    (void)env, (void)ar, (void)nargs, (void)nresults;
    assert_null(k23vm_caller_instance(caller));
    assert_null(k23vm_caller_memory(caller));
    return k23vm_trap_new(k23vm_caller_store(caller), "custom failure");
}

static k23vm_trap *host_bad_result(void *env, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    (void)env, (void)caller, (void)nargs, (void)nresults;
    ar[0].kind = K23VM_I64; /* declared i32 */
    return NULL;
}

static k23vm_trap *typed_mix(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    (void)env, (void)caller;
    assert_int_equal(args[0].kind, K23VM_I32);
    assert_int_equal(args[1].kind, K23VM_I64);
    assert_int_equal(args[2].kind, K23VM_F64);
    assert_int_equal(results[0].kind, K23VM_F32);
    assert_int_equal(results[1].kind, K23VM_EXTERNREF);
    results[0].of.f32 = (float)(args[0].of.i32 + args[1].of.i64 + args[2].of.f64);
    results[1].of.externref = env;
    return NULL;
}

/* Re-enters itself through k23vm_func_call until the store's re-entry cap stops it. */
static int reentry_depth;
static k23vm_trap *reenter(void *env, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    (void)ar, (void)nargs, (void)nresults;
    reentry_depth++;
    k23vm_trap *t = NULL;
    k23vm_error *err = k23vm_func_call(k23vm_caller_store(caller), *(k23vm_func **)env, NULL, 0, NULL, 0, &t);
    assert_null(err);
    return t;
}

static void host_funcs(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e), *other = store_of(e);
    int32_t env = 3;
    k23vm_func *f = host_add(s, &env);
    k23vm_trap *trap = (k23vm_trap *)1;
    k23vm_val arg = v_i32(4), res = {0};
    ok(k23vm_func_call(s, f, &arg, 1, &res, 1, &trap));
    assert_null(trap);
    assert_int_equal(res.kind, K23VM_I32);
    assert_int_equal(res.of.i32, 7);
    assert_ptr_equal(k23vm_func_store(f), s);

    /* Argument checking. */
    k23vm_val wrong = v_i64(4);
    expect_error(k23vm_func_call(s, f, &wrong, 1, &res, 1, &trap), K23VM_ERROR_ARGUMENT, "argument 0: expected i32");
    expect_error(k23vm_func_call(s, f, NULL, 0, &res, 1, &trap), K23VM_ERROR_ARGUMENT, "expected 1 arguments");
    expect_error(k23vm_func_call(s, f, &arg, 1, NULL, 0, &trap), K23VM_ERROR_ARGUMENT, "expected room for 1");
    expect_error(k23vm_func_call(other, f, &arg, 1, &res, 1, &trap), K23VM_ERROR_ARGUMENT, "function belongs");
    expect_error(k23vm_func_call(s, f, &arg, 1, &res, 1, NULL), K23VM_ERROR_ARGUMENT, "null argument");
    static const k23vm_valkind bogus[] = {(k23vm_valkind)0x55};
    k23vm_functype bft = {1, 0, bogus, NULL};
    k23vm_func *bf = NULL;
    expect_error(k23vm_func_new(s, &bft, add_env, &env, NULL, &bf), K23VM_ERROR_ARGUMENT, "parameter 0");
    assert_null(bf);

    /* A trap from the host, and a result of the wrong kind. */
    k23vm_functype none = {0, 0, NULL, NULL};
    k23vm_func *tf = NULL;
    ok(k23vm_func_new(s, &none, host_trap, NULL, NULL, &tf));
    ok(k23vm_func_call(s, tf, NULL, 0, NULL, 0, &trap));
    assert_non_null(trap);
    assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_HOST);
    assert_string_equal(k23vm_trap_message(trap), "custom failure");
    assert_int_equal(k23vm_trap_frame_count(trap), 0);
    k23vm_trap_delete(trap);
    static const k23vm_valkind i32[] = {K23VM_I32};
    k23vm_functype ri = {0, 1, NULL, i32};
    ok(k23vm_func_new(s, &ri, host_bad_result, NULL, NULL, &tf));
    ok(k23vm_func_call(s, tf, NULL, 0, &res, 1, &trap));
    assert_non_null(trap);
    assert_string_equal(k23vm_trap_message(trap), "host function returned a result of the wrong type");
    k23vm_trap_delete(trap);

    /* Typed. */
    k23vm_func *tm = NULL;
    ok(k23vm_func_new_typed(s, "iIF>fx", typed_mix, &env, NULL, &tm));
    const k23vm_functype *ft = k23vm_func_type(tm);
    assert_int_equal(ft->nparams, 3);
    assert_int_equal(ft->nresults, 2);
    assert_int_equal(ft->params[2], K23VM_F64);
    assert_int_equal(ft->results[1], K23VM_EXTERNREF);
    k23vm_val args[] = {v_i32(1), v_i64(2), v_f64(0.5)}, outs[2];
    ok(k23vm_func_call(s, tm, args, 3, outs, 2, &trap));
    assert_null(trap);
    assert_true(outs[0].of.f32 == 3.5f);
    assert_ptr_equal(outs[1].of.externref, &env);
    expect_error(k23vm_func_new_typed(s, "i>q", typed_mix, &env, NULL, &tm), K23VM_ERROR_ARGUMENT, "signature");
    expect_error(k23vm_func_new_typed(s, "i>i>i", typed_mix, &env, NULL, &tm), K23VM_ERROR_ARGUMENT, "signature");
    k23vm_func *empty = NULL;
    ok(k23vm_func_new_typed(s, "", typed_mix, &env, NULL, &empty));
    assert_int_equal(k23vm_func_type(empty)->nparams + k23vm_func_type(empty)->nresults, 0);
    /* Many parameters: past the on-stack buffers. */
    char sig[64];
    memset(sig, 'i', 40);
    sig[40] = '>';
    sig[41] = 'i';
    sig[42] = 0;
    k23vm_func *wide = NULL;
    ok(k23vm_func_new_typed(s, sig, typed_mix, &env, NULL, &wide));
    assert_int_equal(k23vm_func_type(wide)->nparams, 40);

    /* Re-entry: host -> host through k23vm_func_call is bounded by max_reentry. */
    k23vm_store_config cfg;
    k23vm_store_config_init(&cfg);
    cfg.max_reentry = 10;
    k23vm_store *rs = NULL;
    ok(k23vm_store_new(e, &cfg, &rs));
    k23vm_func *self = NULL;
    ok(k23vm_func_new(rs, &none, reenter, &self, NULL, &self));
    reentry_depth = 0;
    ok(k23vm_func_call(rs, self, NULL, 0, NULL, 0, &trap));
    assert_non_null(trap);
    assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_STACK_EXHAUSTED);
    assert_string_equal(k23vm_trap_message(trap), "call stack exhausted");
    assert_int_equal(reentry_depth, 10);
    k23vm_trap_delete(trap);
    /* The store is usable afterwards: the depth unwound. */
    assert_int_equal(rs->reentry, 0);
    k23vm_store_delete(rs);

    k23vm_store_delete(s);
    k23vm_store_delete(other);
    k23vm_engine_delete(e);
}

/* ---- plain C functions through libffi ----------------------------------------------------------------------- */

#ifdef K23VM_HAVE_FFI
static int32_t c_add(int32_t a, int32_t b) { return a + b; }
static double c_mix(int32_t a, int64_t b, float c, double d) { return a + (double)b + c + d; }
static int c_calls;
static void c_void(void) { c_calls++; }
static void *c_ptr(void *p, int64_t k) { return (char *)p + k; }
static float c_f(float x) { return x * 2; }
static int32_t c_peek(k23vm_caller *caller, int32_t addr)
{
    k23vm_memory *m = k23vm_caller_memory(caller);
    return m ? k23vm_memory_data(m)[addr] : -1;
}

static void ffi_funcs(void **state)
{
    (void)state;
    k23vm_engine *e = engine_with(K23VM_BOUNDS_DEFAULT, K23VM_ALLOCATOR_PLAIN);
    k23vm_store *s = store_of(e);
    k23vm_func *add = NULL, *mix = NULL, *nothing = NULL, *ptr = NULL, *f = NULL, *peek = NULL;
    ok(k23vm_func_new_ffi(s, "ii>i", (void (*)(void))c_add, &add));
    ok(k23vm_func_new_ffi(s, "iIfF>F", (void (*)(void))c_mix, &mix));
    ok(k23vm_func_new_ffi(s, "", c_void, &nothing));
    ok(k23vm_func_new_ffi(s, "xI>x", (void (*)(void))c_ptr, &ptr));
    ok(k23vm_func_new_ffi(s, "f>f", (void (*)(void))c_f, &f));
    ok(k23vm_func_new_ffi(s, "@i>i", (void (*)(void))c_peek, &peek));
    k23vm_func *bad = NULL;
    expect_error(k23vm_func_new_ffi(s, "V>i", c_void, &bad), K23VM_ERROR_ARGUMENT, "ffi signature");
    expect_error(k23vm_func_new_ffi(s, "i>ii", c_void, &bad), K23VM_ERROR_ARGUMENT, "ffi signature");
    assert_null(bad);
    assert_int_equal(k23vm_func_type(mix)->nparams, 4);
    assert_int_equal(k23vm_func_type(peek)->nparams, 1);

    k23vm_trap *trap = NULL;
    k23vm_val args[4] = {v_i32(-7), v_i32(10)}, res;
    ok(k23vm_func_call(s, add, args, 2, &res, 1, &trap));
    assert_int_equal(res.kind, K23VM_I32);
    assert_int_equal(res.of.i32, 3);
    k23vm_val margs[] = {v_i32(1), v_i64(1LL << 40), v_f32(0.5f), v_f64(0.25)};
    ok(k23vm_func_call(s, mix, margs, 4, &res, 1, &trap));
    assert_true(res.of.f64 == 1 + (double)(1LL << 40) + 0.75);
    c_calls = 0;
    ok(k23vm_func_call(s, nothing, NULL, 0, NULL, 0, &trap));
    assert_int_equal(c_calls, 1);
    char buf[8];
    k23vm_val pargs[] = {{.kind = K23VM_EXTERNREF, .of.externref = buf}, v_i64(3)};
    ok(k23vm_func_call(s, ptr, pargs, 2, &res, 1, &trap));
    assert_ptr_equal(res.of.externref, buf + 3);
    k23vm_val fa = v_f32(1.25f);
    ok(k23vm_func_call(s, f, &fa, 1, &res, 1, &trap));
    assert_true(res.of.f32 == 2.5f);
    k23vm_val pa = v_i32(0);
    ok(k23vm_func_call(s, peek, &pa, 1, &res, 1, &trap));
    assert_int_equal(res.of.i32, -1); /* no calling instance */

    /* From wasm: imports bound to C functions, the caller's memory reached. */
    k23vm_module *m = module_of(e, "(module (import \"c\" \"add\" (func $add (param i32 i32) (result i32)))\n"
                                   "  (import \"c\" \"peek\" (func $peek (param i32) (result i32)))\n"
                                   "  (memory 1) (data (i32.const 9) \"\\05\")\n"
                                   "  (func (export \"go\") (result i32) (call $add (call $peek (i32.const 9)) (i32.const 1))))");
    k23vm_extern xs[] = {x_func(add), x_func(peek)};
    k23vm_instance *inst = NULL;
    ok(k23vm_instance_new(s, m, xs, 2, &inst, &trap));
    ok(k23vm_func_call(s, export_of(inst, "go", K23VM_EXTERN_FUNC).of.func, NULL, 0, &res, 1, &trap));
    assert_null(trap);
    assert_int_equal(res.of.i32, 6);
    k23vm_store_delete(s);
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
}
#endif

/* ---- the pooling allocator ------------------------------------------------------------------------------- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void pooling(void **state)
{
    (void)state;
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.allocator = K23VM_ALLOCATOR_POOLING;
    cfg.pool.instances = 4;
    cfg.pool.memories = 2;
    cfg.pool.tables = 2;
    cfg.pool.memory_pages = 4;
    cfg.pool.table_elements = 100;
    cfg.pool.instance_bytes = 8192;
    k23vm_bounds_mode modes[] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    for (int k = 0; k < 2; k++) {
        cfg.bounds = modes[k];
        k23vm_engine *e = NULL;
        ok(k23vm_engine_new(&cfg, &e));
        k23vm_module *m = module_of(e, "(module (memory (export \"mem\") 1) (table (export \"t\") 2 funcref)"
                                       "  (func $f) (elem (i32.const 1) $f) (data (i32.const 10) \"x\"))");
        uint8_t *first_base = NULL;
        for (int round = 0; round < 5; round++) {
            k23vm_store *s = store_of(e);
            k23vm_instance *a = NULL, *b = NULL, *c = NULL;
            ok(k23vm_instance_new(s, m, NULL, 0, &a, NULL));
            ok(k23vm_instance_new(s, m, NULL, 0, &b, NULL));
            /* Two memory slots: the third instance finds none. */
            /* (tables come first in instantiation, and there are two table slots as well) */
            expect_error(k23vm_instance_new(s, m, NULL, 0, &c, NULL), K23VM_ERROR_RESOURCE, "cannot allocate a table");
            k23vm_memory *mem = export_of(a, "mem", K23VM_EXTERN_MEMORY).of.memory;
            uint8_t *d = k23vm_memory_data(mem);
            if (round == 0) first_base = d;
            else assert_true(d == first_base || export_of(b, "mem", K23VM_EXTERN_MEMORY).of.memory->base == first_base);
            /* Reused slots come back zeroed. */
            assert_int_equal(d[0] | d[11] | d[65535], 0);
            assert_int_equal(d[10], 'x');
            memset(d, 0xAB, 65536);
            assert_int_equal(k23vm_memory_grow(mem, 3), 1);
            assert_int_equal(d[65536 * 4 - 1], 0);
            d[65536 * 4 - 1] = 1;
            assert_int_equal(k23vm_memory_grow(mem, 1), -1); /* the slot's 4 pages */
            k23vm_table *t = export_of(a, "t", K23VM_EXTERN_TABLE).of.table;
            k23vm_val v;
            assert_true(k23vm_table_get(t, 0, &v));
            assert_null(v.of.funcref);
            assert_int_equal(k23vm_table_grow(t, 98, NULL), 2);
            assert_int_equal(k23vm_table_grow(t, 1, NULL), -1);
            k23vm_val fv = v_func(export_of(a, "t", K23VM_EXTERN_TABLE).of.table->elems[1]);
            ok(k23vm_table_set(t, 99, &fv));
            k23vm_store_delete(s);
        }
        k23vm_module_delete(m);
        k23vm_engine_delete(e);
    }

    /* Timing: instantiate a small module with one memory, plain against pooling. */
    const char *small = "(module (memory (export \"mem\") 1) (global (mut i32) (i32.const 0))"
                        "  (func (export \"f\") (result i32) i32.const 1) (data (i32.const 0) \"hi\"))";
    k23vm_allocator_kind kinds[] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};
    for (int kb = 0; kb < 2; kb++)
        for (int ka = 0; ka < 2; ka++) {
            k23vm_engine_config c2;
            k23vm_engine_config_init(&c2);
            c2.allocator = kinds[ka];
            c2.bounds = modes[kb];
            k23vm_engine *e = NULL;
            ok(k23vm_engine_new(&c2, &e));
            k23vm_module *m = module_of(e, small);
            enum { N = 2000 };
            double inst_total = 0, best = 1e9;
            for (int k = 0; k < N; k++) {
                k23vm_store *s = store_of(e);
                k23vm_instance *inst = NULL;
                double t0 = now_us();
                ok(k23vm_instance_new(s, m, NULL, 0, &inst, NULL));
                double dt = now_us() - t0;
                inst_total += dt;
                if (dt < best) best = dt;
                k23vm_store_delete(s);
            }
            printf("instantiate small module + 1 memory, %s bounds, %s allocator: mean %.2f us, best %.2f us\n",
                   modes[kb] == K23VM_BOUNDS_GUARD ? "guard" : "explicit",
                   kinds[ka] == K23VM_ALLOCATOR_POOLING ? "pooling" : "plain", inst_total / N, best);
            k23vm_module_delete(m);
            k23vm_engine_delete(e);
        }
}

static void pooling_errors(void **state)
{
    (void)state;
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.allocator = (k23vm_allocator_kind)7;
    k23vm_engine *e = NULL;
    expect_error(k23vm_engine_new(&cfg, &e), K23VM_ERROR_ARGUMENT, "unknown allocator");
    assert_null(e);
    /* A platform without virtual memory cannot pool. */
    k23vm_platform plat = *k23vm_platform_default();
    plat.reserve = NULL;
    cfg.platform = &plat;
    cfg.allocator = K23VM_ALLOCATOR_POOLING;
    expect_error(k23vm_engine_new(&cfg, &e), K23VM_ERROR_ARGUMENT, "the pooling allocator needs");
    /* More address space than there is. */
    cfg.platform = NULL;
    cfg.bounds = K23VM_BOUNDS_GUARD;
    cfg.pool.memories = 100000; /* 800 TiB */
    expect_error(k23vm_engine_new(&cfg, &e), K23VM_ERROR_RESOURCE, "pool: cannot reserve");
    /* Instance slots too small for a module. */
    cfg.pool.memories = 1;
    cfg.pool.instance_bytes = 64;
    ok(k23vm_engine_new(&cfg, &e));
    char text[4096] = "(module";
    for (int k = 0; k < 200; k++) strcat(text, " (func)");
    strcat(text, ")");
    k23vm_module *m = module_of(e, text);
    k23vm_store *s = store_of(e);
    k23vm_instance *inst = NULL;
    expect_error(k23vm_instance_new(s, m, NULL, 0, &inst, NULL), K23VM_ERROR_RESOURCE, "instance needs");
    k23vm_store_delete(s);
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
}

/* ---- explicit bounds on a platform without virtual memory: heap memories that move ----------------------- */

static void heap_memories(void **state)
{
    (void)state;
    k23vm_platform plat = *k23vm_platform_default();
    plat.reserve = NULL;
    plat.commit = NULL;
    plat.thread_slot = NULL;
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.platform = &plat;
    k23vm_engine *e = NULL;
    ok(k23vm_engine_new(&cfg, &e));
    k23vm_store *s = store_of(e);
    k23vm_memory *m = NULL;
    k23vm_limits l = {0, 0, false};
    ok(k23vm_memory_new(s, &l, &m));
    assert_non_null(k23vm_memory_data(m));
    assert_int_equal(k23vm_memory_data_size(m), 0);
    assert_false(m->guard);
    for (int k = 0; k < 20; k++) {
        assert_int_equal(k23vm_memory_grow(m, 1), k);
        uint8_t *d = k23vm_memory_data(m);
        for (int j = 0; j < k; j++) assert_int_equal(d[j * 65536 + 7], j + 1);
        assert_int_equal(d[k * 65536 + 7], 0);
        d[k * 65536 + 7] = (uint8_t)(k + 1);
    }
    /* Guard bounds cannot be had here. */
    cfg.bounds = K23VM_BOUNDS_GUARD;
    k23vm_engine *g = NULL;
    expect_error(k23vm_engine_new(&cfg, &g), K23VM_ERROR_ARGUMENT, "guard-page bounds");
    k23vm_store_delete(s);
    k23vm_engine_delete(e);

    /* A platform with virtual memory but no thread slot: guard bounds are refused when asked for,
     * and the default falls back to explicit checks. */
    k23vm_platform p2 = *k23vm_platform_default();
    p2.thread_slot = NULL;
    cfg.platform = &p2;
    expect_error(k23vm_engine_new(&cfg, &g), K23VM_ERROR_ARGUMENT, "guard-page bounds need");
    assert_null(g);
    cfg.bounds = K23VM_BOUNDS_DEFAULT;
    ok(k23vm_engine_new(&cfg, &g));
    k23vm_store *gs = store_of(g);
    k23vm_memory *gm = NULL;
    ok(k23vm_memory_new(gs, &l, &gm));
    assert_false(gm->guard);
    k23vm_store_delete(gs);
    k23vm_engine_delete(g);
}

/* ---- allocation failure injection ------------------------------------------------------------------------ */

typedef struct counting {
    long live, calls, fail_at; /* fail_at < 0: never */
    long long bytes;
    long reservations;
    long long reserved;
    bool failed;
    const k23vm_platform *base;
} counting;

static counting cnt;

static void *c_alloc(void *ctx, size_t n)
{
    (void)ctx;
    if (cnt.fail_at >= 0 && cnt.calls++ == cnt.fail_at) {
        cnt.failed = true;
        return NULL;
    }
    void *p = malloc(n);
    if (p) cnt.live++, cnt.bytes += (long long)n;
    return p;
}

static void *c_realloc(void *ctx, void *p, size_t old, size_t n)
{
    (void)ctx;
    if (cnt.fail_at >= 0 && cnt.calls++ == cnt.fail_at) {
        cnt.failed = true;
        return NULL;
    }
    void *q = realloc(p, n);
    if (q && !p) cnt.live++, old = 0;
    if (q) cnt.bytes += (long long)n - (long long)old;
    return q;
}

static void c_free(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (!p) return;
    cnt.live--;
    cnt.bytes -= (long long)n;
    free(p);
}

static void *c_reserve(void *ctx, size_t n)
{
    if (cnt.fail_at >= 0 && cnt.calls++ == cnt.fail_at) {
        cnt.failed = true;
        return NULL;
    }
    void *p = cnt.base->reserve(ctx, n);
    if (p) cnt.reservations++, cnt.reserved += (long long)n;
    return p;
}

static bool c_commit(void *ctx, void *a, size_t n, int prot)
{
    if (cnt.fail_at >= 0 && cnt.calls++ == cnt.fail_at) {
        cnt.failed = true;
        return false;
    }
    return cnt.base->commit(ctx, a, n, prot);
}

static void c_release(void *ctx, void *a, size_t n)
{
    cnt.reservations--;
    cnt.reserved -= (long long)n;
    cnt.base->release(ctx, a, n);
}

static k23vm_trap *oom_host(void *env, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    (void)env, (void)nargs, (void)nresults;
    /* A host trap may itself be what runs out of memory: k23vm_trap_new falls back. */
    if (ar[0].of.i32 == 0) return k23vm_trap_new(k23vm_caller_store(caller), "zero");
    ar[0].of.i32 *= 2;
    return NULL;
}

/* The scenario: an engine, a module, a store with every kind of object, a linker, an instance with
 * segments, a host call, a trap. Returns the first error's kind, or 0 when all went through. */
static int oom_scenario(const k23vm_platform *plat, k23vm_allocator_kind alloc, k23vm_bounds_mode bounds,
                        const uint8_t *bytes, size_t len)
{
    int result = 0;
    k23vm_engine *e = NULL;
    k23vm_module *m = NULL;
    k23vm_store *s = NULL;
    k23vm_linker *l = NULL;
    k23vm_trap *trap = NULL;
    k23vm_error *err;
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.platform = plat;
    cfg.allocator = alloc;
    cfg.bounds = bounds;
    cfg.pool.instances = cfg.pool.memories = cfg.pool.tables = 3;
#define STEP(call)                                                                                                    \
    do {                                                                                                              \
        err = (call);                                                                                                 \
        if (err) {                                                                                                    \
            result = (int)k23vm_error_kind_of(err);                                                                   \
            assert_true(result == K23VM_ERROR_RESOURCE);                                                              \
            k23vm_error_delete(err);                                                                                  \
            goto out;                                                                                                 \
        }                                                                                                             \
    } while (0)
    STEP(k23vm_engine_new(&cfg, &e));
    STEP(k23vm_module_new(e, bytes, len, &m));
    STEP(k23vm_store_new(e, NULL, &s));
    STEP(k23vm_linker_new(e, &l));
    static const k23vm_valkind i[] = {K23VM_I32};
    k23vm_functype ft = {1, 1, i, i};
    k23vm_func *f = NULL;
    STEP(k23vm_func_new(s, &ft, oom_host, NULL, NULL, &f));
    k23vm_memory *mem = NULL;
    k23vm_limits one = {1, 0, false}, two = {2, 0, false};
    STEP(k23vm_memory_new(s, &one, &mem));
    k23vm_table *tab = NULL;
    STEP(k23vm_table_new(s, K23VM_FUNCREF, &two, NULL, &tab));
    k23vm_global *g = NULL;
    k23vm_val gv = v_i32(42);
    STEP(k23vm_global_new(s, K23VM_I32, false, &gv, &g));
    k23vm_func *typed = NULL;
    STEP(k23vm_func_new_typed(s, "iI>F", typed_mix, NULL, NULL, &typed));
    k23vm_extern xs[] = {x_func(f), x_mem(mem), x_table(tab), x_global(g)};
    STEP(k23vm_linker_define(l, "env", 3, "f", 1, &xs[0]));
    STEP(k23vm_linker_define(l, "env", 3, "mem", 3, &xs[1]));
    STEP(k23vm_linker_define(l, "env", 3, "tab", 3, &xs[2]));
    STEP(k23vm_linker_define(l, "env", 3, "g", 1, &xs[3]));
    k23vm_instance *inst = NULL;
    STEP(k23vm_linker_instantiate(l, s, m, &inst, &trap));
    STEP(k23vm_linker_define_instance(l, "M", 1, inst));
    if (k23vm_table_grow(export_of(inst, "t2", K23VM_EXTERN_TABLE).of.table, 5, NULL) < 0) {
        result = K23VM_ERROR_RESOURCE;
        goto out;
    }
    /* wasm code: the interpreter translates "id" on this first call and may run out too. */
    k23vm_val a = v_i32(21), r;
    STEP(k23vm_func_call(s, export_of(inst, "id", K23VM_EXTERN_FUNC).of.func, &a, 1, &r, 1, &trap));
    if (trap) {
        assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_RESOURCE);
        result = K23VM_ERROR_RESOURCE;
        goto out;
    }
    assert_int_equal(r.of.i32, 21);
    STEP(k23vm_func_call(s, f, &a, 1, &r, 1, &trap));
    if (trap) {
        assert_int_equal(k23vm_trap_code_of(trap), K23VM_TRAP_RESOURCE);
        result = K23VM_ERROR_RESOURCE;
        goto out;
    }
    assert_int_equal(r.of.i32, 42);
    a = v_i32(0);
    STEP(k23vm_func_call(s, f, &a, 1, &r, 1, &trap));
    assert_non_null(trap); /* "zero", or the static trap when there was no memory for it */
    assert_true(k23vm_trap_code_of(trap) == K23VM_TRAP_HOST);
out:
    k23vm_trap_delete(trap);
    k23vm_linker_delete(l);
    k23vm_store_delete(s);
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
    return result;
#undef STEP
}

static void allocation_failures(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = wat(full_module, &len);
    const k23vm_platform *base = k23vm_platform_default();
    k23vm_platform plat = *base;
    plat.alloc = c_alloc;
    plat.realloc = c_realloc;
    plat.free = c_free;
    plat.reserve = c_reserve;
    plat.commit = c_commit;
    plat.release = c_release;
    k23vm_allocator_kind kinds[] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};
    k23vm_bounds_mode modes[] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    for (int ka = 0; ka < 2; ka++)
        for (int kb = 0; kb < 2; kb++) {
            long n = 0;
            for (;; n++) {
                memset(&cnt, 0, sizeof cnt);
                cnt.base = base;
                cnt.fail_at = n;
                int r = oom_scenario(&plat, kinds[ka], modes[kb], bytes, len);
                if (cnt.live || cnt.bytes || cnt.reservations || cnt.reserved)
                    fail_msg("failing allocation %ld: %ld blocks (%lld bytes), %ld reservations left", n, cnt.live,
                             cnt.bytes, cnt.reservations);
                if (!cnt.failed) {
                    assert_int_equal(r, 0);
                    break;
                }
            }
            printf("allocation failure injection (%s, %s): %ld failure points, each clean\n",
                   kinds[ka] == K23VM_ALLOCATOR_POOLING ? "pooling" : "plain",
                   modes[kb] == K23VM_BOUNDS_GUARD ? "guard" : "explicit", n);
            assert_true(n > 20);
        }
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_lifecycle),
        cmocka_unit_test(type_interning),
        cmocka_unit_test(instantiate_full),
        cmocka_unit_test(link_errors),
        cmocka_unit_test(partial_instantiation),
        cmocka_unit_test(memory_ops),
        cmocka_unit_test(table_ops),
        cmocka_unit_test(global_ops),
        cmocka_unit_test(host_funcs),
#ifdef K23VM_HAVE_FFI
        cmocka_unit_test(ffi_funcs),
#endif
        cmocka_unit_test(pooling),
        cmocka_unit_test(pooling_errors),
        cmocka_unit_test(heap_memories),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
