/* table.c - table instances (spec 4.2.7): making them for instances and the API, table.grow for the
 * tiers and the API, and the public accessors.
 *
 * Elements are pointers: a k23vm_func* in a funcref table, the host's pointer in an externref
 * table, NULL for the null reference (runtime.h). The effective maximum is the least of the
 * type's maximum (2^32 - 1 without one), the store's max_table_elements and the allocator's.
 */
#include "store.h"

k23vm_error *table_init_in(k23vm_store *s, k23vm_table *t, const tabletype *tt, void *init)
{
    struct store_private *p = s->priv;
    uint64_t max = tt->lim.has_max && tt->lim.max < UINT32_MAX ? tt->lim.max : UINT32_MAX;
    if (max > p->max_table_elements) max = p->max_table_elements;
    if (tt->lim.min > max)
        return store_err(s, K23VM_ERROR_RESOURCE, "table of %llu elements is over the store's limit of %llu",
                         (unsigned long long)tt->lim.min, (unsigned long long)max);
    t->store = s;
    t->type = *tt;
    t->max = (uint32_t)max;
    if (!p->alloc->ops->table_alloc(p->alloc, t, (uint32_t)tt->lim.min))
        return store_err(s, K23VM_ERROR_RESOURCE, "cannot allocate a table of %llu elements",
                         (unsigned long long)tt->lim.min);
    t->size = (uint32_t)tt->lim.min;
    if (init)
        for (uint32_t i = 0; i < t->size; i++) t->elems[i] = init;
    return NULL;
}

void table_release(k23vm_store *s, k23vm_table *t)
{
    if (t->elems) s->priv->alloc->ops->table_free(s->priv->alloc, t);
}

int64_t table_grow(k23vm_table *t, uint64_t delta, void *init)
{
    uint32_t old = t->size;
    if (delta > (uint64_t)(t->max - old)) return -1;
    if (delta == 0) return old;
    uint32_t n = old + (uint32_t)delta;
    store_allocator *a = t->store->priv->alloc;
    if (n > t->capacity && !a->ops->table_grow(a, t, n)) return -1;
    for (uint32_t i = old; i < n; i++) t->elems[i] = init;
    t->size = n;
    return old;
}

/* ---- public API ------------------------------------------------------------------------------------ */

static void *ref_of(const k23vm_val *v) { return v->kind == K23VM_FUNCREF ? (void *)v->of.funcref : v->of.externref; }

k23vm_error *k23vm_table_new(k23vm_store *s, k23vm_valkind elem, const k23vm_limits *lim, const k23vm_val *init,
                             k23vm_table **out)
{
    if (out) *out = NULL;
    if (!s || !lim || !out) return err_static(ERR_STATIC_NULL_ARG);
    if (elem != K23VM_FUNCREF && elem != K23VM_EXTERNREF)
        return store_err(s, K23VM_ERROR_ARGUMENT, "table element type must be funcref or externref");
    if (lim->min > UINT32_MAX || (lim->has_max && (lim->max > UINT32_MAX || lim->max < lim->min)))
        return store_err(s, K23VM_ERROR_ARGUMENT, "table limits: invalid table type");
    if (init && !val_fits(s, init, (valtype)elem))
        return store_err(s, K23VM_ERROR_ARGUMENT, "table init value: expected %s", k23vm_valkind_name(elem));
    k23vm_table *t = arena_zalloc(&s->priv->arena, sizeof *t);
    if (!t || !store_reserve_objects(s, 0, 1)) return err_oom();
    tabletype tt = {.elem = (valtype)elem, .lim = {lim->min, lim->has_max ? lim->max : 0, lim->has_max}};
    k23vm_error *err = table_init_in(s, t, &tt, init ? ref_of(init) : NULL);
    if (err) return err;
    s->priv->tables.data[s->priv->tables.len++] = t;
    *out = t;
    return NULL;
}

uint32_t k23vm_table_size(const k23vm_table *t) { return t ? t->size : 0; }

bool k23vm_table_get(const k23vm_table *t, uint32_t index, k23vm_val *out)
{
    if (!t || !out || index >= t->size) return false;
    memset(out, 0, sizeof *out);
    out->kind = (k23vm_valkind)t->type.elem;
    if (t->type.elem == K23VM_FUNCREF) out->of.funcref = t->elems[index];
    else out->of.externref = t->elems[index];
    return true;
}

k23vm_error *k23vm_table_set(k23vm_table *t, uint32_t index, const k23vm_val *v)
{
    if (!t || !v) return err_static(ERR_STATIC_NULL_ARG);
    if (index >= t->size)
        return store_err(t->store, K23VM_ERROR_ARGUMENT, "out of bounds table access: index %u, size %u", index,
                         t->size);
    if (!val_fits(t->store, v, t->type.elem))
        return store_err(t->store, K23VM_ERROR_ARGUMENT, "table element: expected %s",
                         k23vm_valkind_name((k23vm_valkind)t->type.elem));
    t->elems[index] = ref_of(v);
    return NULL;
}

int64_t k23vm_table_grow(k23vm_table *t, uint32_t delta, const k23vm_val *init)
{
    if (!t) return -1;
    if (init && !val_fits(t->store, init, t->type.elem)) return -1;
    return table_grow(t, delta, init ? ref_of(init) : NULL);
}

void k23vm_table_type(const k23vm_table *t, k23vm_valkind *elem, k23vm_limits *lim)
{
    if (!t) return;
    if (elem) *elem = (k23vm_valkind)t->type.elem;
    if (lim) {
        lim->min = t->size;
        lim->max = t->type.lim.has_max ? t->type.lim.max : 0;
        lim->has_max = t->type.lim.has_max;
    }
}
