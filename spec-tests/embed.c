/* embed.c - the spec-test runner's bridge to the k23vm embedding API (see embed.h).
 *
 * Implemented: loading (decode + validate). Not yet: instantiation, calls, globals, registration;
 * those answer EMBED_UNSUPPORTED until the store API exists. The plan for them, so that the
 * runner needs no change:
 *  - embed_new also creates a store per script (embed_reset drops it) and a linker holding the
 *    spectest host module: func print, print_i32, print_i64, print_f32, print_f64, print_i32_f32,
 *    print_f64_f64 (all no results, do nothing); global_i32 = 666 (i32), global_i64 = 666 (i64),
 *    global_f32 = 666.6 (f32), global_f64 = 666.6 (f64), all immutable; table = 10..20 funcref;
 *    memory = 1..2 pages.
 *  - embed_instantiate instantiates through the linker; k23vm errors map to EMBED_ERROR with
 *    their kind, a start-function trap to EMBED_ERROR/K23VM_ERROR_UNINSTANTIABLE. Per the
 *    spec, effects of a failed instantiation on imported tables/memories stay visible.
 *  - embed_register adds every export of m's instance to the linker under `as`.
 *  - embed_invoke converts spec_val <-> k23vm_val (externref N: a host reference whose payload
 *    is N, created on the first use of N and reused after; funcref: identity = the func handle),
 *    calls, and maps the trap: "call stack exhausted" to EMBED_EXHAUSTED, others to EMBED_TRAP
 *    with the trap message. */
#include "embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct embed {
    k23vm_engine *engine;
};

struct embed_module {
    k23vm_module *module;
    /* Later: the instance made from module, owned by the script's store. */
};

static void set_outcome(embed_outcome *o, embed_status st, k23vm_error_kind kind, const char *msg)
{
    o->status = st;
    o->error_kind = kind;
    snprintf(o->message, sizeof o->message, "%s", msg ? msg : "");
}

static embed_status unsupported(embed_outcome *o, const char *what)
{
    set_outcome(o, EMBED_UNSUPPORTED, 0, what);
    return EMBED_UNSUPPORTED;
}

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
    k23vm_engine_delete(e->engine);
    free(e);
}

bool embed_can_execute(const embed *e)
{
    (void)e;
    return false;
}

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
        set_outcome(o, EMBED_ERROR, k23vm_error_kind_of(ke), k23vm_error_message(ke));
        k23vm_error_delete(ke);
        k23vm_module_delete(km); /* NULL per the API; deleting NULL is a no-op */
        free(m);
        return EMBED_ERROR;
    }
    if (!km) {
        set_outcome(o, EMBED_ERROR, K23VM_ERROR_ARGUMENT, "k23vm_module_new returned no module and no error");
        free(m);
        return EMBED_ERROR;
    }
    m->module = km;
    *out = m;
    set_outcome(o, EMBED_OK, 0, NULL);
    return EMBED_OK;
}

void embed_module_delete(embed_module *m)
{
    if (!m) return;
    k23vm_module_delete(m->module);
    free(m);
}

embed_status embed_instantiate(embed *e, embed_module *m, embed_outcome *o)
{
    (void)e;
    (void)m;
    return unsupported(o, "instantiation");
}

embed_status embed_invoke(embed *e, embed_module *m, const char *name, size_t name_len, const spec_val *args,
                          size_t nargs, spec_val *results, size_t *nresults, embed_outcome *o)
{
    (void)e;
    (void)m;
    (void)name;
    (void)name_len;
    (void)args;
    (void)nargs;
    (void)results;
    *nresults = 0;
    return unsupported(o, "invoke");
}

embed_status embed_get(embed *e, embed_module *m, const char *name, size_t name_len, spec_val *out,
                       embed_outcome *o)
{
    (void)e;
    (void)m;
    (void)name;
    (void)name_len;
    memset(out, 0, sizeof *out);
    return unsupported(o, "get");
}

embed_status embed_register(embed *e, embed_module *m, const char *as, size_t as_len, embed_outcome *o)
{
    (void)e;
    (void)m;
    (void)as;
    (void)as_len;
    return unsupported(o, "register");
}

void embed_reset(embed *e) { (void)e; }
