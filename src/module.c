/* module.c - the public module API (include/k23vm.h): k23vm_module_new decodes (decode.c) and
 * validates (validate.c) a copy of the bytes; the query functions describe imports, exports and
 * names from the immutable result, so they are safe from several threads at once.
 *
 * Value types: the module keeps them as one byte each (module.h: valtype), their binary encoding,
 * which is also the value of k23vm_valkind. The public k23vm_functype wants k23vm_valkind arrays,
 * so after validation each type gets such a copy once (build_api_types), and the queries hand out
 * pointers to it: no allocation and no conversion per query.
 */
#include "decode.h"
#include "engine.h"
#include "error.h"
#include "interp/interp.h"
#include "validate.h"

/* ---- making and freeing ------------------------------------------------------------------------ */

static void module_free(k23vm_module *m, bool owns_bytes)
{
    if (!m) return;
    const k23vm_platform *plat = m->plat;
    interp_module_free(m); /* code translated lazily by the interpreter, not in the arena */
    arena_free(&m->arena);
    if (owns_bytes) mem_free(plat, m->bytes, m->size);
    mem_free(plat, m, sizeof *m);
}

/* All types' parameters and results as k23vm_valkind, in one block. */
static bool build_api_types(k23vm_module *m)
{
    if (m->ntypes == 0) return true;
    size_t total = 0;
    for (uint32_t i = 0; i < m->ntypes; i++) total += (size_t)m->types[i].nparams + m->types[i].nresults;
    size_t bytes;
    if (!size_mul(m->ntypes, sizeof *m->api_types, &bytes)) return false;
    k23vm_functype *api = arena_alloc(&m->arena, bytes);
    if (!api || !size_mul(total, sizeof(k23vm_valkind), &bytes)) return false;
    k23vm_valkind *kinds = total ? arena_alloc(&m->arena, bytes) : NULL;
    if (total && !kinds) return false;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const functype *ft = &m->types[i];
        api[i].nparams = ft->nparams;
        api[i].params = kinds;
        for (uint32_t k = 0; k < ft->nparams; k++) *kinds++ = (k23vm_valkind)ft->params[k];
        api[i].nresults = ft->nresults;
        api[i].results = kinds;
        for (uint32_t k = 0; k < ft->nresults; k++) *kinds++ = (k23vm_valkind)ft->results[k];
    }
    m->api_types = api;
    return true;
}

/* Decodes and validates bytes into a new module. With `keep`, the module copies the bytes and
 * gets its public type view; without, it borrows the caller's bytes for the duration of a check
 * and the caller frees it with module_free(m, false). */
static k23vm_error *module_make(k23vm_engine *engine, const uint8_t *bytes, size_t len, bool keep,
                                k23vm_module **out)
{
    *out = NULL;
    const k23vm_platform *plat = &engine->plat;
    if (!bytes && len) return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "bytes is NULL");
    /* Offsets in the module (module.h) are 32-bit. */
    if (len > UINT32_MAX)
        return err_new(plat, K23VM_ERROR_RESOURCE, K23VM_NO_OFFSET, "module of %zu bytes is over 4 GiB", len);

    k23vm_module *m = mem_zalloc(plat, sizeof *m);
    if (!m) return err_oom();
    m->engine = engine;
    m->plat = plat;
    arena_init(&m->arena, plat);
    if (keep) {
        m->bytes = mem_alloc(plat, len);
        if (!m->bytes) {
            mem_free(plat, m, sizeof *m);
            return err_oom();
        }
        if (len) memcpy(m->bytes, bytes, len);
    } else {
        /* decode and validate only read the bytes; the module is freed before anyone could
         * write through this pointer. An empty module may come as NULL. */
        static const uint8_t nothing[1];
        m->bytes = (uint8_t *)(uintptr_t)(bytes ? bytes : nothing);
    }
    m->size = len;

    k23vm_error *err = decode_module(m);
    if (!err) err = validate_module(m);
    if (!err && keep && !build_api_types(m)) err = err_oom();
    if (err) {
        module_free(m, keep);
        return err;
    }
    *out = m;
    return NULL;
}

k23vm_error *k23vm_module_new(k23vm_engine *engine, const uint8_t *bytes, size_t len, k23vm_module **out)
{
    if (out) *out = NULL;
    if (!engine) return err_static(ERR_STATIC_NULL_ARG);
    if (!out) return err_new(&engine->plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "out is NULL");
    return module_make(engine, bytes, len, true, out);
}

k23vm_error *k23vm_module_validate(k23vm_engine *engine, const uint8_t *bytes, size_t len)
{
    if (!engine) return err_static(ERR_STATIC_NULL_ARG);
    k23vm_module *m = NULL;
    k23vm_error *err = module_make(engine, bytes, len, false, &m);
    module_free(m, false);
    return err;
}

void k23vm_module_delete(k23vm_module *module) { module_free(module, true); }

/* ---- imports and exports ----------------------------------------------------------------------- */

static k23vm_limits api_limits(limits l) { return (k23vm_limits){l.min, l.max, l.has_max}; }

static void describe_func(const k23vm_module *m, uint32_t typeidx, k23vm_externtype *t)
{
    t->kind = K23VM_EXTERN_FUNC;
    t->u.func = m->api_types[typeidx];
}

static void describe_table(tabletype tt, k23vm_externtype *t)
{
    t->kind = K23VM_EXTERN_TABLE;
    t->u.table.elem = (k23vm_valkind)tt.elem;
    t->u.table.limits = api_limits(tt.lim);
}

static void describe_memory(memtype mt, k23vm_externtype *t)
{
    t->kind = K23VM_EXTERN_MEMORY;
    t->u.memory.limits = api_limits(mt.lim);
}

static void describe_global(globaltype gt, k23vm_externtype *t)
{
    t->kind = K23VM_EXTERN_GLOBAL;
    t->u.global.type = (k23vm_valkind)gt.type;
    t->u.global.is_mutable = gt.mut;
}

static k23vm_name api_name(wname n) { return (k23vm_name){n.ptr, n.len}; }

size_t k23vm_module_import_count(const k23vm_module *module) { return module ? module->nimports : 0; }

bool k23vm_module_import(const k23vm_module *module, size_t i, k23vm_import *out)
{
    if (!module || !out || i >= module->nimports) return false;
    const import *im = &module->imports[i];
    memset(out, 0, sizeof *out);
    out->module = api_name(im->module);
    out->name = api_name(im->field);
    switch ((k23vm_externkind)im->kind) {
    case K23VM_EXTERN_FUNC: describe_func(module, im->u.typeidx, &out->type); break;
    case K23VM_EXTERN_TABLE: describe_table(im->u.table, &out->type); break;
    case K23VM_EXTERN_MEMORY: describe_memory(im->u.mem, &out->type); break;
    case K23VM_EXTERN_GLOBAL: describe_global(im->u.global, &out->type); break;
    }
    return true;
}

size_t k23vm_module_export_count(const k23vm_module *module) { return module ? module->nexports : 0; }

/* Validation has checked every export's index against its index space (3.4.10). */
bool k23vm_module_export(const k23vm_module *module, size_t i, k23vm_export *out)
{
    if (!module || !out || i >= module->nexports) return false;
    const export *ex = &module->exports[i];
    memset(out, 0, sizeof *out);
    out->name = api_name(ex->name);
    switch ((k23vm_externkind)ex->kind) {
    case K23VM_EXTERN_FUNC: describe_func(module, module->func_typeidx[ex->index], &out->type); break;
    case K23VM_EXTERN_TABLE: describe_table(module->tables[ex->index], &out->type); break;
    case K23VM_EXTERN_MEMORY: describe_memory(module->mems[ex->index], &out->type); break;
    case K23VM_EXTERN_GLOBAL: describe_global(module->globaltypes[ex->index], &out->type); break;
    }
    return true;
}

/* ---- names ------------------------------------------------------------------------------------- */

bool k23vm_module_func_name(const k23vm_module *module, uint32_t funcidx, k23vm_name *out)
{
    if (!module || !out) return false;
    /* func_names is sorted by index (decode.c rejects a name map out of order). */
    const nameassoc *v = module->func_names;
    uint32_t lo = 0, hi = module->nfunc_names;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid].index < funcidx) lo = mid + 1;
        else hi = mid;
    }
    if (lo == module->nfunc_names || v[lo].index != funcidx) return false;
    *out = api_name(v[lo].name);
    return true;
}

const char *k23vm_valkind_name(k23vm_valkind kind)
{
    static const char *const names[256] = {
        [K23VM_I32] = "i32",   [K23VM_I64] = "i64",         [K23VM_F32] = "f32",
        [K23VM_F64] = "f64",   [K23VM_V128] = "v128",       [K23VM_FUNCREF] = "funcref",
        [K23VM_EXTERNREF] = "externref",
    };
    unsigned k = (unsigned)kind;
    return k < 256 && names[k] ? names[k] : "?";
}
