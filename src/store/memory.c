/* memory.c - memory instances (spec 4.2.8): making them for instances and the API, memory.grow
 * (4.4.7) for the tiers and the API, and the public accessors.
 *
 * The effective maximum of a memory is the least of its type's maximum (65536 pages without one),
 * the store's max_memory_pages and what the allocator can give (a pool slot). Growing past it
 * answers -1, as memory.grow may (4.4.7: "fail ... when the implementation chooses"), so a store's
 * cap is invisible to the guest except as an unsuccessful grow.
 */
#include "store.h"

k23vm_error *memory_init_in(k23vm_store *s, k23vm_memory *m, const memtype *mt)
{
    struct store_private *p = s->priv;
    uint64_t max = mt->lim.has_max && mt->lim.max < WASM_MAX_PAGES ? mt->lim.max : WASM_MAX_PAGES;
    if (max > p->max_memory_pages) max = p->max_memory_pages;
    if (mt->lim.min > max)
        return store_err(s, K23VM_ERROR_RESOURCE, "memory of %llu pages is over the store's limit of %llu pages",
                         (unsigned long long)mt->lim.min, (unsigned long long)max);
    m->store = s;
    m->type = *mt;
    m->max_pages = max;
    if (!p->alloc->ops->memory_alloc(p->alloc, m, mt->lim.min * WASM_PAGE, max * WASM_PAGE))
        return store_err(s, K23VM_ERROR_RESOURCE, "cannot allocate a memory of %llu pages",
                         (unsigned long long)mt->lim.min);
    m->size = mt->lim.min * WASM_PAGE;
    return NULL;
}

void memory_release(k23vm_store *s, k23vm_memory *m)
{
    if (m->base) s->priv->alloc->ops->memory_free(s->priv->alloc, m);
}

int64_t memory_grow(k23vm_memory *m, uint64_t delta)
{
    uint64_t old = m->size / WASM_PAGE;
    if (delta > m->max_pages - old) return -1;
    if (delta == 0) return (int64_t)old;
    uint64_t bytes = (old + delta) * WASM_PAGE;
    store_allocator *a = m->store->priv->alloc;
    if (!a->ops->memory_grow(a, m, bytes)) return -1;
    m->size = bytes;
    return (int64_t)old;
}

/* ---- public API ------------------------------------------------------------------------------------ */

k23vm_error *k23vm_memory_new(k23vm_store *s, const k23vm_limits *lim, k23vm_memory **out)
{
    if (out) *out = NULL;
    if (!s || !lim || !out) return err_static(ERR_STATIC_NULL_ARG);
    /* The limits must be a valid memory type (3.2.4): at most 2^16 pages, min <= max. */
    if (lim->min > WASM_MAX_PAGES || (lim->has_max && (lim->max > WASM_MAX_PAGES || lim->max < lim->min)))
        return store_err(s, K23VM_ERROR_ARGUMENT, "memory limits: invalid memory type");
    k23vm_memory *m = arena_zalloc(&s->priv->arena, sizeof *m);
    if (!m || !store_reserve_objects(s, 1, 0)) return err_oom();
    memtype mt = {.lim = {lim->min, lim->has_max ? lim->max : 0, lim->has_max}};
    k23vm_error *err = memory_init_in(s, m, &mt);
    if (err) return err;
    s->priv->memories.data[s->priv->memories.len++] = m;
    *out = m;
    return NULL;
}

uint8_t *k23vm_memory_data(const k23vm_memory *m) { return m ? m->base : NULL; }

size_t k23vm_memory_data_size(const k23vm_memory *m) { return m ? (size_t)m->size : 0; }

uint64_t k23vm_memory_size(const k23vm_memory *m) { return m ? m->size / WASM_PAGE : 0; }

int64_t k23vm_memory_grow(k23vm_memory *m, uint64_t delta) { return m ? memory_grow(m, delta) : -1; }

void k23vm_memory_type(const k23vm_memory *m, k23vm_limits *out)
{
    if (!m || !out) return;
    out->min = m->size / WASM_PAGE;
    out->max = m->type.lim.has_max ? m->type.lim.max : 0;
    out->has_max = m->type.lim.has_max;
}
