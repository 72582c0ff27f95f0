/* store.c - k23vm_store (spec 4.2.3): making and freeing stores, their limits, fuel and interrupt,
 * embedder data, and the store-wide interning of function types that gives call_indirect its
 * one-comparison type check (4.4.8: the callee's type must equal the expected type).
 *
 * A store owns everything made in it (store.h says where each kind of object lives) and frees it
 * all in k23vm_store_delete; nothing is freed one object at a time.
 */
#include "store.h"

enum {
    DEFAULT_STACK_BYTES = 1 << 20,
    MIN_STACK_SLOTS = 256,
    DEFAULT_MAX_REENTRY = 64,
    DEFAULT_MAX_TABLE_ELEMENTS = 10000000,
};

/* ---- making and freeing ------------------------------------------------------------------------ */

void k23vm_store_config_init(k23vm_store_config *cfg)
{
    if (cfg) memset(cfg, 0, sizeof *cfg);
}

k23vm_error *k23vm_store_new(k23vm_engine *engine, const k23vm_store_config *cfg, k23vm_store **out)
{
    if (!out) return err_static(ERR_STATIC_NULL_ARG);
    *out = NULL;
    if (!engine) return err_static(ERR_STATIC_NULL_ARG);
    const k23vm_platform *plat = &engine->plat;
    k23vm_store_config defaults;
    if (!cfg) {
        k23vm_store_config_init(&defaults);
        cfg = &defaults;
    }
    bool guard = engine->bounds == K23VM_BOUNDS_GUARD;
    if (guard) {
        if (!arch_ctx_supported || !plat->thread_slot)
            return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET,
                           "guard-page bounds need the platform's thread_slot hook and a supported "
                           "architecture; use K23VM_BOUNDS_EXPLICIT");
        if (plat->fault_init && !plat->fault_init(plat->ctx))
            return err_new(plat, K23VM_ERROR_RESOURCE, K23VM_NO_OFFSET, "cannot install the memory fault handler");
    }

    store_block *b = mem_zalloc(plat, sizeof *b);
    if (!b) return err_oom();
    k23vm_store *s = &b->store;
    struct store_private *p = &b->priv;
    s->engine = engine;
    s->plat = plat;
    s->priv = p;
    s->max_reentry = cfg->max_reentry ? cfg->max_reentry : DEFAULT_MAX_REENTRY;
    s->fuel_enabled = cfg->fuel;
    arena_init(&p->arena, plat);
    if (engine->alloc) {
        p->alloc = engine->alloc;
    } else {
        alloc_plain_init(&p->plain, plat, guard);
        p->alloc = &p->plain;
    }
    uint64_t pages = cfg->max_memory_pages && cfg->max_memory_pages < WASM_MAX_PAGES ? cfg->max_memory_pages
                                                                                     : WASM_MAX_PAGES;
    p->max_memory_pages = pages < p->alloc->max_memory_pages ? pages : p->alloc->max_memory_pages;
    uint32_t elems = cfg->max_table_elements ? cfg->max_table_elements : DEFAULT_MAX_TABLE_ELEMENTS;
    p->max_table_elements = elems < p->alloc->max_table_elements ? elems : p->alloc->max_table_elements;
    size_t bytes = cfg->max_stack_bytes ? cfg->max_stack_bytes : DEFAULT_STACK_BYTES;
    p->stack_slots = bytes / sizeof(slot) < MIN_STACK_SLOTS ? MIN_STACK_SLOTS : bytes / sizeof(slot);
    *out = s;
    return NULL;
}

void k23vm_store_delete(k23vm_store *s)
{
    if (!s) return;
    struct store_private *p = s->priv;
    const k23vm_platform *plat = s->plat;
    /* Finalizers first: they may still look at the objects (memories, globals) of the store. */
    if (p->data_finalizer) p->data_finalizer(p->data);
    for (size_t i = 0; i < p->host_funcs.len; i++) {
        k23vm_func *f = p->host_funcs.data[i];
        f->finalizer(f->env);
    }
    for (size_t i = 0; i < p->memories.len; i++) memory_release(s, p->memories.data[i]);
    for (size_t i = 0; i < p->tables.len; i++) table_release(s, p->tables.data[i]);
    for (k23vm_instance *inst = p->instances, *next; inst; inst = next) {
        next = inst->next_in_store;
        p->alloc->ops->instance_free(p->alloc, inst->block, inst->block_size, inst->alloc_slot);
    }
    if (p->alloc == &p->plain && p->plain.ops->destroy) p->plain.ops->destroy(&p->plain);
    VEC_FREE(plat, &p->memories);
    VEC_FREE(plat, &p->tables);
    VEC_FREE(plat, &p->host_funcs);
    VEC_FREE(plat, &p->types);
    mem_free(plat, p->type_index, (size_t)p->type_cap * sizeof *p->type_index);
    mem_free(plat, s->stack_base, p->stack_slots * sizeof(slot));
    arena_free(&p->arena);
    mem_free(plat, (store_block *)s, sizeof(store_block));
}

bool store_reserve_objects(k23vm_store *s, size_t memories, size_t tables)
{
    struct store_private *p = s->priv;
    return VEC_RESERVE(s->plat, &p->memories, memories) && VEC_RESERVE(s->plat, &p->tables, tables);
}

bool store_ensure_stack(k23vm_store *s)
{
    if (s->stack_base) return true;
    size_t bytes;
    if (!size_mul(s->priv->stack_slots, sizeof(slot), &bytes)) return false;
    slot *st = mem_alloc(s->plat, bytes);
    if (!st) return false;
    s->stack_base = s->stack_top = st;
    s->stack_limit = st + s->priv->stack_slots;
    return true;
}

k23vm_engine *k23vm_store_engine(const k23vm_store *s) { return s ? s->engine : NULL; }

void k23vm_store_set_data(k23vm_store *s, void *data, void (*finalizer)(void *data))
{
    if (!s) return;
    struct store_private *p = s->priv;
    if (p->data_finalizer && p->data != data) p->data_finalizer(p->data);
    p->data = data;
    p->data_finalizer = finalizer;
}

void *k23vm_store_data(const k23vm_store *s) { return s ? s->priv->data : NULL; }

/* ---- fuel and interrupt --------------------------------------------------------------------------- */

k23vm_error *k23vm_store_set_fuel(k23vm_store *s, uint64_t fuel)
{
    if (!s) return err_static(ERR_STATIC_NULL_ARG);
    if (!s->fuel_enabled)
        return store_err(s, K23VM_ERROR_ARGUMENT, "fuel: the store was made without fuel metering");
    s->fuel = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
    return NULL;
}

uint64_t k23vm_store_get_fuel(const k23vm_store *s)
{
    if (!s || !s->fuel_enabled || s->fuel < 0) return 0;
    return (uint64_t)s->fuel;
}

void k23vm_store_interrupt(k23vm_store *s)
{
    /* A plain atomic store: async-signal-safe and lock-free on every target; the tiers poll. */
    if (s) __atomic_store_n(&s->interrupt, 1, __ATOMIC_RELEASE);
}

/* ---- function type interning ---------------------------------------------------------------------- */

static uint32_t type_hash(const functype *ft)
{
    /* FNV-1a over the counts and the type bytes. */
    uint32_t h = 2166136261u;
    h = (h ^ ft->nparams) * 16777619u;
    for (uint32_t i = 0; i < ft->nparams; i++) h = (h ^ ft->params[i]) * 16777619u;
    h = (h ^ 0xFF ^ ft->nresults) * 16777619u;
    for (uint32_t i = 0; i < ft->nresults; i++) h = (h ^ ft->results[i]) * 16777619u;
    return h;
}

static bool type_equal(const functype *a, const functype *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           (a->nparams == 0 || !memcmp(a->params, b->params, a->nparams)) &&
           (a->nresults == 0 || !memcmp(a->results, b->results, a->nresults));
}

static bool type_index_grow(k23vm_store *s)
{
    struct store_private *p = s->priv;
    uint32_t cap = p->type_cap ? p->type_cap * 2 : 64;
    if (cap < p->type_cap) return false;
    uint32_t *idx = mem_zalloc(s->plat, (size_t)cap * sizeof *idx);
    if (!idx) return false;
    for (size_t id = 0; id < p->types.len; id++) {
        uint32_t i = type_hash(p->types.data[id]) & (cap - 1);
        while (idx[i]) i = (i + 1) & (cap - 1);
        idx[i] = (uint32_t)id + 1;
    }
    mem_free(s->plat, p->type_index, (size_t)p->type_cap * sizeof *idx);
    p->type_index = idx;
    p->type_cap = cap;
    return true;
}

bool store_intern_type(k23vm_store *s, const functype *ft, uint32_t *id)
{
    struct store_private *p = s->priv;
    if ((p->types.len + 1) * 2 > p->type_cap && !type_index_grow(s)) return false;
    uint32_t mask = p->type_cap - 1;
    uint32_t i = type_hash(ft) & mask;
    for (; p->type_index[i]; i = (i + 1) & mask) {
        uint32_t cand = p->type_index[i] - 1;
        if (type_equal(p->types.data[cand], ft)) {
            *id = cand;
            return true;
        }
    }
    if (p->types.len >= UINT32_MAX - 1) return false;
    /* A copy in the store: the type must outlive the module (or host call) it came from. */
    functype *copy = arena_alloc(&p->arena, sizeof *copy + ft->nparams + ft->nresults);
    if (!copy) return false;
    valtype *v = (valtype *)(copy + 1);
    if (ft->nparams) memcpy(v, ft->params, ft->nparams);
    if (ft->nresults) memcpy(v + ft->nparams, ft->results, ft->nresults);
    copy->nparams = ft->nparams;
    copy->nresults = ft->nresults;
    copy->params = v;
    copy->results = v + ft->nparams;
    if (!VEC_PUSH(s->plat, &p->types, copy)) return false;
    *id = (uint32_t)(p->types.len - 1);
    p->type_index[i] = *id + 1;
    return true;
}
