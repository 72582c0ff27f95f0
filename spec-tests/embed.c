/* embed.c - the spec-test runner's bridge to the k23vm embedding API (see embed.h): loading,
 * instantiation against the `spectest` host module and registered instances, calls, globals and
 * registration.
 *
 * One engine per run (embed_new, with the run's execution and bounds modes). One store per
 * script, made on first use and dropped by embed_reset together with the script's linker, so that
 * nothing of one script is visible to the next. The linker holds the spectest host module
 * (defined when the store is made) and every instance the script registers:
 *  - func print, print_i32, print_i64, print_f32, print_f64, print_i32_f32, print_f64_f64: no
 *    results, print nothing (the suite checks no output);
 *  - global_i32 = 666 (i32), global_i64 = 666 (i64), global_f32 = 666.6 (f32), global_f64 =
 *    666.6 (f64), all immutable;
 *  - table = 10..20 funcref; memory = 1..2 pages.
 *
 * Module lifetime: the API wants a module to outlive the instances made from it, and a failed
 * instantiation leaves its partly made instance in the store (its functions may sit in an imported
 * table, and the script may call them later: linking.wast does). The runner deletes the modules of
 * assert_unlinkable/assert_uninstantiable and of a failed `module` command at once, so a module
 * that was instantiated in the current store is only retired by embed_module_delete and freed by
 * embed_reset, after the store.
 *
 * Values: spec_val <-> k23vm_val bit for bit. externref N is a host reference whose identity is
 * N: a cell holding N, made on the first use of N and reused after (so the identity is stable, and
 * non-null also for N = 0); cells live as long as the embed. A funcref's identity is its
 * k23vm_func handle. Traps: "call stack exhausted" (K23VM_TRAP_STACK_EXHAUSTED) is
 * EMBED_EXHAUSTED, any other trap EMBED_TRAP with the trap's message.
 */
#include "embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A host reference of the script's (ref.extern N). */
typedef struct extern_cell {
    uint64_t n;
} extern_cell;

struct embed {
    k23vm_engine *engine;
    /* The script's store and linker; NULL until first needed. */
    k23vm_store *store;
    k23vm_linker *linker;
    /* Counts the stores made, so that a module knows whether its instance is in the current one. */
    unsigned long generation;
    /* Modules deleted by the runner while the store may still refer to them; freed by embed_reset. */
    k23vm_module **retired;
    size_t nretired, cap_retired;
    /* externref cells, by first use. */
    extern_cell **cells;
    size_t ncells, cap_cells;
};

struct embed_module {
    embed *e;
    k23vm_module *module;
    k23vm_instance *instance;  /* NULL until instantiated, or when instantiation failed */
    unsigned long generation;  /* of the store an instantiation was tried in; 0 for none */
};

static void set_outcome(embed_outcome *o, embed_status st, k23vm_error_kind kind, const char *msg)
{
    o->status = st;
    o->error_kind = kind;
    snprintf(o->message, sizeof o->message, "%s", msg ? msg : "");
}

/* Takes (and frees) a k23vm error into o. */
static embed_status from_error(embed_outcome *o, k23vm_error *ke)
{
    set_outcome(o, EMBED_ERROR, k23vm_error_kind_of(ke), k23vm_error_message(ke));
    k23vm_error_delete(ke);
    return EMBED_ERROR;
}

static embed_status runner_error(embed_outcome *o, const char *msg)
{
    set_outcome(o, EMBED_ERROR, K23VM_ERROR_ARGUMENT, msg);
    return EMBED_ERROR;
}

/* Takes (and frees) a trap into o. */
static embed_status from_trap(embed_outcome *o, k23vm_trap *t)
{
    embed_status st = k23vm_trap_code_of(t) == K23VM_TRAP_STACK_EXHAUSTED ? EMBED_EXHAUSTED : EMBED_TRAP;
    set_outcome(o, st, 0, k23vm_trap_message(t));
    k23vm_trap_delete(t);
    return st;
}

/* ---- engine ------------------------------------------------------------------------------------ */

embed *embed_new(k23vm_exec_mode mode, k23vm_bounds_mode bounds, char *err, size_t errlen)
{
    embed *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.mode = mode;
    cfg.bounds = bounds;
    k23vm_error *ke = k23vm_engine_new(&cfg, &e->engine);
    if (ke) {
        snprintf(err, errlen, "%s", k23vm_error_message(ke));
        k23vm_error_delete(ke);
        free(e);
        return NULL;
    }
    if (!e->engine) {
        snprintf(err, errlen, "k23vm_engine_new returned no engine and no error");
        free(e);
        return NULL;
    }
    return e;
}

void embed_delete(embed *e)
{
    if (!e) return;
    embed_reset(e);
    for (size_t i = 0; i < e->ncells; i++) free(e->cells[i]);
    free(e->cells);
    free(e->retired);
    k23vm_engine_delete(e->engine);
    free(e);
}

bool embed_can_execute(const embed *e)
{
    (void)e;
    return true;
}

/* ---- the spectest host module ------------------------------------------------------------------ */

static k23vm_trap *spectest_print(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    (void)env;
    (void)caller;
    (void)args;
    (void)results;
    return NULL;
}

static k23vm_error *define(embed *e, const char *name, const k23vm_extern *item)
{
    return k23vm_linker_define(e->linker, "spectest", 8, name, strlen(name), item);
}

static k23vm_error *define_spectest(embed *e)
{
    static const struct {
        const char *name, *sig;
    } prints[] = {{"print", ""},          {"print_i32", "i"},         {"print_i64", "I"},
                  {"print_f32", "f"},     {"print_f64", "F"},         {"print_i32_f32", "if"},
                  {"print_f64_f64", "FF"}};
    k23vm_error *ke;
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        k23vm_extern x = {.kind = K23VM_EXTERN_FUNC};
        ke = k23vm_func_new_typed(e->store, prints[i].sig, spectest_print, NULL, NULL, &x.of.func);
        if (!ke) ke = define(e, prints[i].name, &x);
        if (ke) return ke;
    }

    k23vm_val gv[4] = {{.kind = K23VM_I32, .of.i32 = 666},
                       {.kind = K23VM_I64, .of.i64 = 666},
                       {.kind = K23VM_F32, .of.f32 = 666.6f},
                       {.kind = K23VM_F64, .of.f64 = 666.6}};
    static const char *const gnames[4] = {"global_i32", "global_i64", "global_f32", "global_f64"};
    for (size_t i = 0; i < 4; i++) {
        k23vm_extern x = {.kind = K23VM_EXTERN_GLOBAL};
        ke = k23vm_global_new(e->store, gv[i].kind, false, &gv[i], &x.of.global);
        if (!ke) ke = define(e, gnames[i], &x);
        if (ke) return ke;
    }

    k23vm_limits tl = {.min = 10, .max = 20, .has_max = true};
    k23vm_extern tx = {.kind = K23VM_EXTERN_TABLE};
    ke = k23vm_table_new(e->store, K23VM_FUNCREF, &tl, NULL, &tx.of.table);
    if (!ke) ke = define(e, "table", &tx);
    if (ke) return ke;

    k23vm_limits ml = {.min = 1, .max = 2, .has_max = true};
    k23vm_extern mx = {.kind = K23VM_EXTERN_MEMORY};
    ke = k23vm_memory_new(e->store, &ml, &mx.of.memory);
    if (!ke) ke = define(e, "memory", &mx);
    return ke;
}

/* The script's store and linker, made on first use. */
static k23vm_error *ensure_store(embed *e)
{
    if (e->store) return NULL;
    k23vm_error *ke = k23vm_store_new(e->engine, NULL, &e->store);
    if (!ke) ke = k23vm_linker_new(e->engine, &e->linker);
    if (!ke) {
        e->generation++;
        ke = define_spectest(e);
    }
    if (ke) embed_reset(e);
    return ke;
}

void embed_reset(embed *e)
{
    if (!e) return;
    k23vm_linker_delete(e->linker);
    e->linker = NULL;
    k23vm_store_delete(e->store);
    e->store = NULL;
    for (size_t i = 0; i < e->nretired; i++) k23vm_module_delete(e->retired[i]);
    e->nretired = 0;
}

/* ---- values ------------------------------------------------------------------------------------ */

/* The host reference for (ref.extern n). NULL when out of memory. */
static void *extern_ref(embed *e, uint64_t n)
{
    for (size_t i = 0; i < e->ncells; i++)
        if (e->cells[i]->n == n) return e->cells[i];
    if (e->ncells == e->cap_cells) {
        size_t cap = e->cap_cells ? e->cap_cells * 2 : 16;
        extern_cell **c = realloc(e->cells, cap * sizeof *c);
        if (!c) return NULL;
        e->cells = c;
        e->cap_cells = cap;
    }
    extern_cell *cell = malloc(sizeof *cell);
    if (!cell) return NULL;
    cell->n = n;
    e->cells[e->ncells++] = cell;
    return cell;
}

/* The cell behind a non-null externref the VM handed back; NULL when it is none of ours. */
static const extern_cell *extern_cell_of(const embed *e, const void *ref)
{
    for (size_t i = 0; i < e->ncells; i++)
        if (e->cells[i] == ref) return e->cells[i];
    return NULL;
}

static bool to_k23(embed *e, const spec_val *in, k23vm_val *out, embed_outcome *o)
{
    memset(out, 0, sizeof *out);
    out->kind = in->kind;
    switch (in->kind) {
    case K23VM_I32: out->of.i32 = (int32_t)in->u.i32; return true;
    case K23VM_I64: out->of.i64 = (int64_t)in->u.i64; return true;
    case K23VM_F32: memcpy(&out->of.f32, &in->u.f32, 4); return true;
    case K23VM_F64: memcpy(&out->of.f64, &in->u.f64, 8); return true;
    case K23VM_V128: memcpy(out->of.v128, in->u.v128, 16); return true;
    case K23VM_FUNCREF:
        /* Only identities this file handed out (a func handle) can come back. */
        out->of.funcref = in->u.ref.is_null ? NULL : (k23vm_func *)(uintptr_t)in->u.ref.id;
        return true;
    case K23VM_EXTERNREF:
        if (in->u.ref.is_null) return true;
        out->of.externref = extern_ref(e, in->u.ref.id);
        if (!out->of.externref) {
            set_outcome(o, EMBED_ERROR, K23VM_ERROR_RESOURCE, "runner: out of memory");
            return false;
        }
        return true;
    }
    runner_error(o, "runner: argument of an unknown value type");
    return false;
}

static bool from_k23(const embed *e, const k23vm_val *in, spec_val *out, embed_outcome *o)
{
    memset(out, 0, sizeof *out);
    out->kind = in->kind;
    switch (in->kind) {
    case K23VM_I32: out->u.i32 = (uint32_t)in->of.i32; return true;
    case K23VM_I64: out->u.i64 = (uint64_t)in->of.i64; return true;
    case K23VM_F32: memcpy(&out->u.f32, &in->of.f32, 4); return true;
    case K23VM_F64: memcpy(&out->u.f64, &in->of.f64, 8); return true;
    case K23VM_V128: memcpy(out->u.v128, in->of.v128, 16); return true;
    case K23VM_FUNCREF:
        out->u.ref.is_null = in->of.funcref == NULL;
        out->u.ref.id = (uint64_t)(uintptr_t)in->of.funcref;
        return true;
    case K23VM_EXTERNREF: {
        out->u.ref.is_null = in->of.externref == NULL;
        if (out->u.ref.is_null) return true;
        const extern_cell *c = extern_cell_of(e, in->of.externref);
        if (!c) {
            runner_error(o, "the VM returned an externref the runner never passed in");
            return false;
        }
        out->u.ref.id = c->n;
        return true;
    }
    }
    runner_error(o, "the VM returned a value of an unknown type");
    return false;
}

/* ---- modules and instances ---------------------------------------------------------------------- */

embed_status embed_load(embed *e, const uint8_t *bytes, size_t len, embed_module **out, embed_outcome *o)
{
    *out = NULL;
    embed_module *m = calloc(1, sizeof *m);
    if (!m) {
        set_outcome(o, EMBED_ERROR, K23VM_ERROR_RESOURCE, "runner: out of memory");
        return EMBED_ERROR;
    }
    k23vm_module *km = NULL;
    k23vm_error *ke = k23vm_module_new(e->engine, bytes, len, &km);
    if (ke) {
        k23vm_module_delete(km); /* NULL per the API; deleting NULL is a no-op */
        free(m);
        return from_error(o, ke);
    }
    if (!km) {
        free(m);
        return runner_error(o, "k23vm_module_new returned no module and no error");
    }
    m->e = e;
    m->module = km;
    *out = m;
    set_outcome(o, EMBED_OK, 0, NULL);
    return EMBED_OK;
}

void embed_module_delete(embed_module *m)
{
    if (!m) return;
    embed *e = m->e;
    bool in_store = e->store && m->generation == e->generation;
    if (in_store && e->nretired == e->cap_retired) {
        size_t cap = e->cap_retired ? e->cap_retired * 2 : 16;
        k23vm_module **r = realloc(e->retired, cap * sizeof *r);
        if (r) {
            e->retired = r;
            e->cap_retired = cap;
        } else {
            /* Cannot keep it: dropping the store early is safe, deleting the module alone is not. */
            embed_reset(e);
            in_store = false;
        }
    }
    if (in_store)
        e->retired[e->nretired++] = m->module;
    else
        k23vm_module_delete(m->module);
    free(m);
}

embed_status embed_instantiate(embed *e, embed_module *m, embed_outcome *o)
{
    if (m->instance) return runner_error(o, "runner: module instantiated twice");
    k23vm_error *ke = ensure_store(e);
    if (ke) return from_error(o, ke);
    m->generation = e->generation;
    k23vm_trap *trap = NULL;
    ke = k23vm_linker_instantiate(e->linker, e->store, m->module, &m->instance, &trap);
    if (ke) {
        m->instance = NULL;
        k23vm_trap_delete(trap);
        return from_error(o, ke);
    }
    if (trap) { /* not per the API: no error, yet a trap */
        k23vm_trap_delete(trap);
        m->instance = NULL;
        return runner_error(o, "k23vm_linker_instantiate returned a trap without an error");
    }
    if (!m->instance) return runner_error(o, "k23vm_linker_instantiate returned no instance and no error");
    set_outcome(o, EMBED_OK, 0, NULL);
    return EMBED_OK;
}

/* m's export `name` of the given kind, into *x; false with o set otherwise. */
static bool find_export(embed *e, embed_module *m, const char *name, size_t name_len, k23vm_externkind kind,
                        k23vm_extern *x, embed_outcome *o)
{
    if (!m->instance || m->generation != e->generation || !e->store) {
        runner_error(o, "runner: the module has no instance");
        return false;
    }
    if (!k23vm_instance_export(m->instance, name, name_len, x)) {
        runner_error(o, "no such export");
        return false;
    }
    if (x->kind != kind) {
        runner_error(o, kind == K23VM_EXTERN_FUNC ? "the export is not a function" : "the export is not a global");
        return false;
    }
    return true;
}

embed_status embed_invoke(embed *e, embed_module *m, const char *name, size_t name_len, const spec_val *args,
                          size_t nargs, spec_val *results, size_t *nresults, embed_outcome *o)
{
    *nresults = 0;
    k23vm_extern x;
    if (!find_export(e, m, name, name_len, K23VM_EXTERN_FUNC, &x, o)) return EMBED_ERROR;
    const k23vm_functype *ft = k23vm_func_type(x.of.func);
    size_t nres = ft->nresults;
    if (nres > EMBED_MAX_RESULTS) return runner_error(o, "runner: the function returns more values than it takes");

    k23vm_val *kargs = calloc(nargs ? nargs : 1, sizeof *kargs);
    k23vm_val *kres = calloc(nres ? nres : 1, sizeof *kres);
    embed_status st = EMBED_OK;
    if (!kargs || !kres) {
        set_outcome(o, EMBED_ERROR, K23VM_ERROR_RESOURCE, "runner: out of memory");
        st = EMBED_ERROR;
        goto out;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (!to_k23(e, &args[i], &kargs[i], o)) {
            st = EMBED_ERROR;
            goto out;
        }
    }
    k23vm_trap *trap = NULL;
    k23vm_error *ke = k23vm_func_call(e->store, x.of.func, kargs, nargs, kres, nres, &trap);
    if (ke) {
        k23vm_trap_delete(trap);
        st = from_error(o, ke);
        goto out;
    }
    if (trap) {
        st = from_trap(o, trap);
        goto out;
    }
    for (size_t i = 0; i < nres; i++) {
        if (!from_k23(e, &kres[i], &results[i], o)) {
            st = EMBED_ERROR;
            goto out;
        }
    }
    *nresults = nres;
    set_outcome(o, EMBED_OK, 0, NULL);
out:
    free(kargs);
    free(kres);
    return st;
}

embed_status embed_get(embed *e, embed_module *m, const char *name, size_t name_len, spec_val *out,
                       embed_outcome *o)
{
    memset(out, 0, sizeof *out);
    k23vm_extern x;
    if (!find_export(e, m, name, name_len, K23VM_EXTERN_GLOBAL, &x, o)) return EMBED_ERROR;
    k23vm_val v;
    k23vm_global_get(x.of.global, &v);
    if (!from_k23(e, &v, out, o)) return EMBED_ERROR;
    set_outcome(o, EMBED_OK, 0, NULL);
    return EMBED_OK;
}

embed_status embed_register(embed *e, embed_module *m, const char *as, size_t as_len, embed_outcome *o)
{
    if (!m->instance || m->generation != e->generation || !e->linker)
        return runner_error(o, "runner: the module has no instance");
    k23vm_error *ke = k23vm_linker_define_instance(e->linker, as, as_len, m->instance);
    if (ke) return from_error(o, ke);
    set_outcome(o, EMBED_OK, 0, NULL);
    return EMBED_OK;
}
