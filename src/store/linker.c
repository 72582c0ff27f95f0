/* linker.c - k23vm_linker: a table from (module name, name) to externs, and instantiation that
 * looks each import up by its names (the embedder's side of 4.5.4 step 3: "the external values
 * are provided by the embedder"). Names are copied into the linker's arena; the table is an
 * open-addressed hash index over the entries, so resolving a module's imports costs one probe
 * per import however many instances are registered (the spec test suite registers many).
 */
#include "store.h"

typedef struct link_entry {
    const char *module, *name;
    size_t module_len, name_len;
    uint32_t hash;
    k23vm_extern item;
} link_entry;

struct k23vm_linker {
    k23vm_engine *engine;
    const k23vm_platform *plat;
    arena names;
    VEC(link_entry) entries;
    uint32_t *index; /* entry + 1, 0 = empty */
    uint32_t cap;    /* power of 2, or 0 */
};

static uint32_t name_hash(const char *m, size_t ml, const char *n, size_t nl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < ml; i++) h = (h ^ (uint8_t)m[i]) * 16777619u;
    h = (h ^ 0x100) * 16777619u; /* separates ("ab", "c") from ("a", "bc") */
    for (size_t i = 0; i < nl; i++) h = (h ^ (uint8_t)n[i]) * 16777619u;
    return h;
}

static bool entry_is(const link_entry *e, uint32_t h, const char *m, size_t ml, const char *n, size_t nl)
{
    return e->hash == h && e->module_len == ml && e->name_len == nl && (ml == 0 || !memcmp(e->module, m, ml)) &&
           (nl == 0 || !memcmp(e->name, n, nl));
}

/* The slot of the index where (m, n) is or would go. */
static uint32_t probe(const k23vm_linker *l, uint32_t h, const char *m, size_t ml, const char *n, size_t nl)
{
    uint32_t mask = l->cap - 1, i = h & mask;
    while (l->index[i] && !entry_is(&l->entries.data[l->index[i] - 1], h, m, ml, n, nl)) i = (i + 1) & mask;
    return i;
}

static bool index_grow(k23vm_linker *l)
{
    uint32_t cap = l->cap ? l->cap * 2 : 64;
    if (cap < l->cap) return false;
    uint32_t *idx = mem_zalloc(l->plat, (size_t)cap * sizeof *idx);
    if (!idx) return false;
    for (size_t k = 0; k < l->entries.len; k++) {
        uint32_t i = l->entries.data[k].hash & (cap - 1);
        while (idx[i]) i = (i + 1) & (cap - 1);
        idx[i] = (uint32_t)k + 1;
    }
    mem_free(l->plat, l->index, (size_t)l->cap * sizeof *idx);
    l->index = idx;
    l->cap = cap;
    return true;
}

k23vm_error *k23vm_linker_new(k23vm_engine *engine, k23vm_linker **out)
{
    if (out) *out = NULL;
    if (!engine || !out) return err_static(ERR_STATIC_NULL_ARG);
    k23vm_linker *l = mem_zalloc(&engine->plat, sizeof *l);
    if (!l) return err_oom();
    l->engine = engine;
    l->plat = &engine->plat;
    arena_init(&l->names, l->plat);
    *out = l;
    return NULL;
}

void k23vm_linker_delete(k23vm_linker *l)
{
    if (!l) return;
    const k23vm_platform *plat = l->plat;
    arena_free(&l->names);
    VEC_FREE(plat, &l->entries);
    mem_free(plat, l->index, (size_t)l->cap * sizeof *l->index);
    mem_free(plat, l, sizeof *l);
}

static bool extern_ok(const k23vm_extern *e)
{
    switch (e->kind) {
    case K23VM_EXTERN_FUNC: return e->of.func != NULL;
    case K23VM_EXTERN_TABLE: return e->of.table != NULL;
    case K23VM_EXTERN_MEMORY: return e->of.memory != NULL;
    case K23VM_EXTERN_GLOBAL: return e->of.global != NULL;
    }
    return false;
}

k23vm_error *k23vm_linker_define(k23vm_linker *l, const char *m, size_t ml, const char *n, size_t nl,
                                 const k23vm_extern *item)
{
    if (!l || !item || (!m && ml) || (!n && nl)) return err_static(ERR_STATIC_NULL_ARG);
    if (!extern_ok(item)) return err_new(l->plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "linker: bad extern");
    if (ml > UINT32_MAX || nl > UINT32_MAX)
        return err_new(l->plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "linker: name too long");
    if ((l->entries.len + 1) * 2 > l->cap && !index_grow(l)) return err_oom();
    uint32_t h = name_hash(m, ml, n, nl);
    uint32_t i = probe(l, h, m, ml, n, nl);
    if (l->index[i]) {
        l->entries.data[l->index[i] - 1].item = *item; /* a later definition replaces */
        return NULL;
    }
    char *copy = arena_alloc(&l->names, ml + nl + 1);
    if (!copy || !VEC_RESERVE(l->plat, &l->entries, 1)) return err_oom();
    if (ml) memcpy(copy, m, ml);
    if (nl) memcpy(copy + ml, n, nl);
    link_entry *e = &l->entries.data[l->entries.len++];
    *e = (link_entry){copy, copy + ml, ml, nl, h, *item};
    l->index[i] = (uint32_t)l->entries.len;
    return NULL;
}

k23vm_error *k23vm_linker_define_instance(k23vm_linker *l, const char *m, size_t ml, const k23vm_instance *inst)
{
    if (!l || !inst) return err_static(ERR_STATIC_NULL_ARG);
    size_t n = k23vm_instance_export_count(inst);
    for (size_t i = 0; i < n; i++) {
        k23vm_name name;
        k23vm_extern ext;
        k23vm_instance_export_at(inst, i, &name, &ext);
        k23vm_error *err = k23vm_linker_define(l, m, ml, name.ptr, name.len, &ext);
        if (err) return err;
    }
    return NULL;
}

bool k23vm_linker_get(const k23vm_linker *l, const char *m, size_t ml, const char *n, size_t nl, k23vm_extern *out)
{
    if (!l || !out || !l->cap || (!m && ml) || (!n && nl)) return false;
    uint32_t i = probe(l, name_hash(m, ml, n, nl), m, ml, n, nl);
    if (!l->index[i]) return false;
    *out = l->entries.data[l->index[i] - 1].item;
    return true;
}

k23vm_error *k23vm_linker_instantiate(const k23vm_linker *l, k23vm_store *s, const k23vm_module *mod,
                                      k23vm_instance **out, k23vm_trap **trap)
{
    if (out) *out = NULL;
    if (trap) *trap = NULL;
    if (!l || !s || !mod || !out) return err_static(ERR_STATIC_NULL_ARG);
    enum { ON_STACK = 32 };
    k23vm_extern buf[ON_STACK];
    size_t n = mod->nimports;
    k23vm_extern *ext = buf;
    if (n > ON_STACK) {
        ext = mem_alloc(s->plat, n * sizeof *ext);
        if (!ext) return err_oom();
    }
    k23vm_error *err = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        const import *im = &mod->imports[i];
        if (!k23vm_linker_get(l, im->module.ptr, im->module.len, im->field.ptr, im->field.len, &ext[i]))
            err = store_err(s, K23VM_ERROR_UNLINKABLE, "unknown import: \"%.*s\" \"%.*s\"", (int)im->module.len,
                            im->module.ptr, (int)im->field.len, im->field.ptr);
    }
    if (!err) err = k23vm_instance_new(s, mod, ext, n, out, trap);
    if (ext != buf) mem_free(s->plat, ext, n * sizeof *ext);
    return err;
}
