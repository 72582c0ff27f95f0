/* global.c - global instances (spec 4.2.9) made through the API, and the public accessors. An
 * instance's own globals live in its block (instance.c); both kinds are struct k23vm_global. */
#include "store.h"

k23vm_error *k23vm_global_new(k23vm_store *s, k23vm_valkind type, bool is_mutable, const k23vm_val *init,
                              k23vm_global **out)
{
    if (out) *out = NULL;
    if (!s || !init || !out) return err_static(ERR_STATIC_NULL_ARG);
    if (!valtype_is_num((valtype)type) && type != K23VM_V128 && !valtype_is_ref((valtype)type))
        return store_err(s, K23VM_ERROR_ARGUMENT, "global: invalid value type %d", (int)type);
    if (!val_fits(s, init, (valtype)type))
        return store_err(s, K23VM_ERROR_ARGUMENT, "global init value: expected %s", k23vm_valkind_name(type));
    k23vm_global *g = arena_zalloc(&s->priv->arena, sizeof *g);
    if (!g) return err_oom();
    g->store = s;
    g->type.type = (valtype)type;
    g->type.mut = is_mutable;
    val_to_slots(init, g->value);
    *out = g;
    return NULL;
}

void k23vm_global_get(const k23vm_global *g, k23vm_val *out)
{
    if (!g || !out) return;
    val_from_slots(g->type.type, g->value, out);
}

k23vm_error *k23vm_global_set(k23vm_global *g, const k23vm_val *v)
{
    if (!g || !v) return err_static(ERR_STATIC_NULL_ARG);
    if (!g->type.mut) return store_err(g->store, K23VM_ERROR_ARGUMENT, "global is immutable");
    if (!val_fits(g->store, v, g->type.type))
        return store_err(g->store, K23VM_ERROR_ARGUMENT, "global value: expected %s",
                         k23vm_valkind_name((k23vm_valkind)g->type.type));
    val_to_slots(v, g->value);
    return NULL;
}

void k23vm_global_type(const k23vm_global *g, k23vm_valkind *type, bool *is_mutable)
{
    if (!g) return;
    if (type) *type = (k23vm_valkind)g->type.type;
    if (is_mutable) *is_mutable = g->type.mut;
}
