/* instance.c - module instances (spec 4.2.5) and instantiation (4.5.4), exports, and the
 * evaluation of constant expressions (3.3.10) from their bytes.
 *
 * Instantiation follows the spec's steps in order:
 *   1. the imports: as many as the module declares, each of the kind and a matching type (4.5.2
 *      import matching, with the subtyping of limits) -> K23VM_ERROR_UNLINKABLE;
 *   2. allocation (4.5.3): the instance block (its functions, the function, table, memory and
 *      global address arrays, its own table/memory/global objects, the type ids and segment
 *      instances), the initial global values and element segment references evaluated in the
 *      auxiliary instance (imported globals, all functions), tables, memories -> on failure
 *      K23VM_ERROR_RESOURCE and nothing remains;
 *   3. element segments in order: active ones are table.init then elem.drop, declarative ones
 *      elem.drop; then data segments: active ones memory.init then data.drop. The bounds are
 *      checked segment by segment, so a segment out of bounds traps after the earlier ones
 *      wrote (2.0 semantics: no up-front check), and the writes stay, also in imported tables
 *      and memories -> K23VM_ERROR_UNINSTANTIABLE with the trap;
 *   4. the start function -> K23VM_ERROR_UNINSTANTIABLE with its trap.
 * From step 3 on the instance belongs to the store (its functions may already sit in imported
 * tables), even when it is not handed out.
 */
#include "insn.h"
#include "store.h"

/* ---- import matching (4.5.2) --------------------------------------------------------------------------- */

static bool limits_match(uint64_t min, uint64_t max, bool has_max, const limits *want)
{
    if (min < want->min) return false;
    if (!want->has_max) return true;
    return has_max && max <= want->max;
}

static bool functype_equal(const functype *a, const functype *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           (a->nparams == 0 || !memcmp(a->params, b->params, a->nparams)) &&
           (a->nresults == 0 || !memcmp(a->results, b->results, a->nresults));
}

const char *extern_match(const k23vm_store *s, const k23vm_module *m, const import *im, const k23vm_extern *ext)
{
    (void)s;
    if ((uint8_t)ext->kind != im->kind) return "incompatible import type";
    switch ((k23vm_externkind)im->kind) {
    case K23VM_EXTERN_FUNC:
        if (!functype_equal(ext->of.func->type, &m->types[im->u.typeidx])) return "incompatible import type";
        return NULL;
    case K23VM_EXTERN_TABLE: {
        /* The external type of a table instance has its current size as minimum (4.5.2). */
        const k23vm_table *t = ext->of.table;
        if (t->type.elem != im->u.table.elem ||
            !limits_match(t->size, t->type.lim.max, t->type.lim.has_max, &im->u.table.lim))
            return "incompatible import type";
        return NULL;
    }
    case K23VM_EXTERN_MEMORY: {
        const k23vm_memory *mem = ext->of.memory;
        if (!limits_match(mem->size / WASM_PAGE, mem->type.lim.max, mem->type.lim.has_max, &im->u.mem.lim))
            return "incompatible import type";
        return NULL;
    }
    case K23VM_EXTERN_GLOBAL: {
        const k23vm_global *g = ext->of.global;
        if (g->type.type != im->u.global.type || g->type.mut != im->u.global.mut) return "incompatible import type";
        return NULL;
    }
    }
    return "incompatible import type";
}

static const void *extern_object(const k23vm_extern *e)
{
    switch (e->kind) {
    case K23VM_EXTERN_FUNC: return e->of.func;
    case K23VM_EXTERN_TABLE: return e->of.table;
    case K23VM_EXTERN_MEMORY: return e->of.memory;
    case K23VM_EXTERN_GLOBAL: return e->of.global;
    }
    return NULL;
}

static const k23vm_store *extern_store(const k23vm_extern *e)
{
    switch (e->kind) {
    case K23VM_EXTERN_FUNC: return e->of.func->store;
    case K23VM_EXTERN_TABLE: return e->of.table->store;
    case K23VM_EXTERN_MEMORY: return e->of.memory->store;
    case K23VM_EXTERN_GLOBAL: return e->of.global->store;
    }
    return NULL;
}

/* ---- constant expressions (3.3.10) ------------------------------------------------------------------------ */

/* Evaluates a validated constant expression of `inst` into out[0..1] (two slots for v128). The
 * 2.0 forms are one instruction (t.const, ref.null, ref.func, global.get); the extended-constant
 * arithmetic is evaluated as well should the validator admit it. False only on an expression the
 * validator should have refused. */
static bool eval_const(const k23vm_instance *inst, const constexpr *e, slot out[2])
{
    const k23vm_module *m = inst->module;
    reader r;
    rd_init(&r, m->bytes, m->size);
    r.p = m->bytes + e->start;
    r.end = m->bytes + e->end;
    enum { DEPTH = 16 };
    slot st[DEPTH][2];
    uint32_t n = 0;
    insn in;
    while (insn_read(&r, &in)) {
        if (in.op == OP_end) {
            if (n != 1) return false;
            out[0] = st[0][0];
            out[1] = st[0][1];
            return true;
        }
        if (in.op == OP_i32_add || in.op == OP_i32_sub || in.op == OP_i32_mul || in.op == OP_i64_add ||
            in.op == OP_i64_sub || in.op == OP_i64_mul) {
            if (n < 2) return false;
            uint64_t a = st[n - 2][0], b = st[n - 1][0], v;
            switch (in.op) {
            case OP_i32_add: v = (uint32_t)(a + b); break;
            case OP_i32_sub: v = (uint32_t)(a - b); break;
            case OP_i32_mul: v = (uint32_t)((uint32_t)a * (uint32_t)b); break;
            case OP_i64_add: v = a + b; break;
            case OP_i64_sub: v = a - b; break;
            default: v = a * b; break;
            }
            n--;
            st[n - 1][0] = v;
            continue;
        }
        if (n == DEPTH) return false;
        slot *v = st[n++];
        v[1] = 0;
        switch (in.op) {
        case OP_i32_const: v[0] = (uint32_t)in.u.i32; break;
        case OP_i64_const: v[0] = (uint64_t)in.u.i64; break;
        case OP_f32_const: v[0] = in.u.f32; break;
        case OP_f64_const: v[0] = in.u.f64; break;
        case OP_v128_const: memcpy(v, in.u.v128, 16); break;
        case OP_ref_null: v[0] = 0; break;
        case OP_ref_func:
            if (in.u.index >= m->nfuncs) return false;
            v[0] = (uintptr_t)inst->funcs[in.u.index];
            break;
        case OP_global_get:
            if (in.u.index >= m->nglobals || !inst->globals[in.u.index]) return false;
            v[0] = inst->globals[in.u.index]->value[0];
            v[1] = inst->globals[in.u.index]->value[1];
            break;
        default: return false;
        }
    }
    return false;
}

/* ---- the instance block ------------------------------------------------------------------------------------- */

typedef struct layout {
    size_t size;
    size_t funcs, func_objs, tables, table_objs, mems, mem_objs, globals, global_objs;
    size_t type_ids, elem_len, elem_refs, ref_store, data_len;
} layout;

/* Adds n elements of elem bytes, 16-byte aligned, at *off; false on overflow. */
static bool lay(layout *l, size_t *off, size_t n, size_t elem)
{
    size_t bytes;
    if (!size_mul(n, elem, &bytes) || bytes > SIZE_MAX - 16 - l->size) return false;
    *off = l->size;
    l->size = (l->size + bytes + 15) & ~(size_t)15;
    return true;
}

static bool layout_of(const k23vm_module *m, layout *l)
{
    memset(l, 0, sizeof *l);
    l->size = (sizeof(k23vm_instance) + 15) & ~(size_t)15;
    size_t refs = 0;
    for (uint32_t i = 0; i < m->nelems; i++) refs += m->elems[i].count;
    return lay(l, &l->funcs, m->nfuncs, sizeof(k23vm_func *)) &&
           lay(l, &l->func_objs, m->nfuncs - m->nfunc_imports, sizeof(k23vm_func)) &&
           lay(l, &l->tables, m->ntables, sizeof(k23vm_table *)) &&
           lay(l, &l->table_objs, m->ntables - m->ntable_imports, sizeof(k23vm_table)) &&
           lay(l, &l->mems, m->nmems, sizeof(k23vm_memory *)) &&
           lay(l, &l->mem_objs, m->nmems - m->nmem_imports, sizeof(k23vm_memory)) &&
           lay(l, &l->globals, m->nglobals, sizeof(k23vm_global *)) &&
           lay(l, &l->global_objs, m->nglobals - m->nglobal_imports, sizeof(k23vm_global)) &&
           lay(l, &l->type_ids, m->ntypes, sizeof(uint32_t)) && lay(l, &l->elem_len, m->nelems, sizeof(uint32_t)) &&
           lay(l, &l->elem_refs, m->nelems, sizeof(void **)) && lay(l, &l->ref_store, refs, sizeof(void *)) &&
           lay(l, &l->data_len, m->ndatas, sizeof(uint32_t));
}

/* Frees what allocation made of an instance that never reached the store (step 2 failed). */
static void instance_discard(k23vm_store *s, k23vm_instance *inst, uint32_t ntables_made, uint32_t nmems_made)
{
    const k23vm_module *m = inst->module;
    for (uint32_t i = 0; i < ntables_made; i++) table_release(s, inst->tables[m->ntable_imports + i]);
    for (uint32_t i = 0; i < nmems_made; i++) memory_release(s, inst->mems[m->nmem_imports + i]);
    store_allocator *a = s->priv->alloc;
    a->ops->instance_free(a, inst->block, inst->block_size, inst->alloc_slot);
}

/* ---- instantiation ------------------------------------------------------------------------------------------- */

static k23vm_error *fail_trap(k23vm_store *s, k23vm_trap *t, k23vm_trap **trap_out)
{
    k23vm_error *err = store_err(s, K23VM_ERROR_UNINSTANTIABLE, "%s", k23vm_trap_message(t));
    if (trap_out) *trap_out = t;
    else k23vm_trap_delete(t);
    return err;
}

/* Step 3 (4.5.4 steps 14-15 in 2.0): segments, in order, each checked when it is applied. */
static k23vm_trap *apply_segments(k23vm_store *s, k23vm_instance *inst)
{
    const k23vm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const elemseg *es = &m->elems[i];
        if (es->mode == SEG_ACTIVE) {
            slot off[2];
            if (!eval_const(inst, &es->offset, off)) return trap_new(s, K23VM_TRAP_RESOURCE, "bad constant expression");
            k23vm_table *t = inst->tables[es->table];
            uint64_t d = (uint32_t)off[0], n = inst->elem_len[i];
            /* table.init (4.4.6): trap when d + n is past the table, even for n = 0. */
            if (d + n > t->size) return trap_new(s, K23VM_TRAP_TABLE_OUT_OF_BOUNDS, NULL);
            if (n) memcpy(t->elems + d, inst->elem_refs[i], (size_t)n * sizeof(void *));
        }
        if (es->mode != SEG_PASSIVE) inst->elem_len[i] = 0; /* elem.drop */
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const dataseg *ds = &m->datas[i];
        if (ds->mode != SEG_ACTIVE) continue;
        slot off[2];
        if (!eval_const(inst, &ds->offset, off)) return trap_new(s, K23VM_TRAP_RESOURCE, "bad constant expression");
        k23vm_memory *mem = inst->mems[ds->mem];
        uint64_t d = (uint32_t)off[0], n = ds->len;
        /* memory.init (4.4.7): trap when d + n is past the memory, even for n = 0. */
        if (d + n > mem->size) return trap_new(s, K23VM_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
        if (n) memcpy(mem->base + d, m->bytes + ds->start, (size_t)n);
        inst->data_len[i] = 0; /* data.drop */
    }
    return NULL;
}

k23vm_error *k23vm_instance_new(k23vm_store *s, const k23vm_module *m, const k23vm_extern *imports, size_t n,
                                k23vm_instance **out, k23vm_trap **trap_out)
{
    if (out) *out = NULL;
    if (trap_out) *trap_out = NULL;
    if (!s || !m || !out || (n && !imports)) return err_static(ERR_STATIC_NULL_ARG);
    if (m->engine != s->engine)
        return store_err(s, K23VM_ERROR_ARGUMENT, "the module belongs to another engine");
    struct store_private *p = s->priv;

    /* 1. Imports (4.5.4 steps 3-4). */
    if (n != m->nimports)
        return store_err(s, K23VM_ERROR_UNLINKABLE, "wrong number of imports: the module has %u, got %zu",
                         m->nimports, n);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const import *im = &m->imports[i];
        if (!extern_object(&imports[i]))
            return store_err(s, K23VM_ERROR_ARGUMENT, "import %u (\"%.*s\" \"%.*s\") is NULL", i, (int)im->module.len,
                             im->module.ptr, (int)im->field.len, im->field.ptr);
        if (extern_store(&imports[i]) != s)
            return store_err(s, K23VM_ERROR_ARGUMENT, "import %u (\"%.*s\" \"%.*s\") belongs to another store", i,
                             (int)im->module.len, im->module.ptr, (int)im->field.len, im->field.ptr);
        const char *why = extern_match(s, m, im, &imports[i]);
        if (why)
            return store_err(s, K23VM_ERROR_UNLINKABLE, "%s: \"%.*s\" \"%.*s\"", why, (int)im->module.len,
                             im->module.ptr, (int)im->field.len, im->field.ptr);
    }

    /* 2. Allocation (4.5.3). */
    layout l;
    if (!layout_of(m, &l)) return store_err(s, K23VM_ERROR_RESOURCE, "instance too large");
    uint32_t ntab = m->ntables - m->ntable_imports, nmem = m->nmems - m->nmem_imports;
    if (!store_reserve_objects(s, nmem, ntab)) return err_oom();
    store_allocator *a = p->alloc;
    uint32_t slot_no = 0;
    uint8_t *block = l.size <= a->max_instance_bytes ? a->ops->instance_alloc(a, l.size, &slot_no) : NULL;
    if (!block) {
        if (l.size > a->max_instance_bytes)
            return store_err(s, K23VM_ERROR_RESOURCE, "instance needs %zu bytes, more than a pool slot's %zu", l.size,
                             a->max_instance_bytes);
        return store_err(s, K23VM_ERROR_RESOURCE, "cannot allocate an instance (%zu bytes)%s", l.size,
                         a->ops == s->priv->plain.ops ? "" : ": the instance pool is exhausted");
    }
    k23vm_instance *inst = (k23vm_instance *)block;
    inst->store = s;
    inst->module = m;
    inst->block = block;
    inst->block_size = l.size;
    inst->alloc_slot = slot_no;
    inst->funcs = (k23vm_func **)(block + l.funcs);
    inst->tables = (k23vm_table **)(block + l.tables);
    inst->mems = (k23vm_memory **)(block + l.mems);
    inst->globals = (k23vm_global **)(block + l.globals);
    inst->type_ids = (uint32_t *)(block + l.type_ids);
    inst->elem_len = (uint32_t *)(block + l.elem_len);
    inst->elem_refs = (void ***)(block + l.elem_refs);
    inst->data_len = (uint32_t *)(block + l.data_len);
    k23vm_func *func_objs = (k23vm_func *)(block + l.func_objs);
    k23vm_table *table_objs = (k23vm_table *)(block + l.table_objs);
    k23vm_memory *mem_objs = (k23vm_memory *)(block + l.mem_objs);
    k23vm_global *global_objs = (k23vm_global *)(block + l.global_objs);
    k23vm_error *err = NULL;
    uint32_t tables_made = 0, mems_made = 0;

    for (uint32_t i = 0; i < m->ntypes; i++)
        if (!store_intern_type(s, &m->types[i], &inst->type_ids[i])) {
            err = err_oom();
            goto discard;
        }
    {
        uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
        for (uint32_t i = 0; i < m->nimports; i++) {
            switch (imports[i].kind) {
            case K23VM_EXTERN_FUNC: inst->funcs[nf++] = imports[i].of.func; break;
            case K23VM_EXTERN_TABLE: inst->tables[nt++] = imports[i].of.table; break;
            case K23VM_EXTERN_MEMORY: inst->mems[nm++] = imports[i].of.memory; break;
            case K23VM_EXTERN_GLOBAL: inst->globals[ng++] = imports[i].of.global; break;
            }
        }
    }
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        k23vm_func *f = &func_objs[i - m->nfunc_imports];
        uint32_t ti = m->func_typeidx[i];
        f->kind = FUNC_WASM;
        f->type_id = inst->type_ids[ti];
        f->type = &m->types[ti];
        f->api_type = &m->api_types[ti];
        f->store = s;
        f->inst = inst;
        f->funcidx = i;
        inst->funcs[i] = f;
    }
    /* Globals see the imported globals and every function (2.0: the auxiliary instance). */
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        k23vm_global *g = &global_objs[i - m->nglobal_imports];
        g->store = s;
        g->type = m->globaltypes[i];
        if (!eval_const(inst, &m->globals[i - m->nglobal_imports].init, g->value)) {
            err = store_err(s, K23VM_ERROR_RESOURCE, "global %u: constant expression not supported", i);
            goto discard;
        }
        inst->globals[i] = g;
    }
    for (uint32_t i = 0; i < ntab; i++) {
        k23vm_table *t = &table_objs[i];
        err = table_init_in(s, t, &m->tables[m->ntable_imports + i], NULL);
        if (err) goto discard;
        inst->tables[m->ntable_imports + i] = t;
        tables_made++;
    }
    for (uint32_t i = 0; i < nmem; i++) {
        k23vm_memory *mem = &mem_objs[i];
        err = memory_init_in(s, mem, &m->mems[m->nmem_imports + i]);
        if (err) goto discard;
        inst->mems[m->nmem_imports + i] = mem;
        mems_made++;
    }
    {
        void **refs = (void **)(block + l.ref_store);
        for (uint32_t i = 0; i < m->nelems; i++) {
            const elemseg *es = &m->elems[i];
            inst->elem_refs[i] = refs;
            inst->elem_len[i] = es->count;
            for (uint32_t k = 0; k < es->count; k++) {
                if (es->funcs) {
                    refs[k] = inst->funcs[es->funcs[k]];
                } else {
                    slot v[2];
                    if (!eval_const(inst, &es->exprs[k], v)) {
                        err = store_err(s, K23VM_ERROR_RESOURCE, "element %u: constant expression not supported", i);
                        goto discard;
                    }
                    refs[k] = (void *)(uintptr_t)v[0];
                }
            }
            refs += es->count;
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) inst->data_len[i] = m->datas[i].len;

    /* The instance now belongs to the store (room in the lists was reserved above). */
    inst->next_in_store = p->instances;
    p->instances = inst;
    for (uint32_t i = 0; i < ntab; i++) p->tables.data[p->tables.len++] = &table_objs[i];
    for (uint32_t i = 0; i < nmem; i++) p->memories.data[p->memories.len++] = &mem_objs[i];

    /* 3. Segments. */
    k23vm_trap *t = apply_segments(s, inst);
    if (t) return fail_trap(s, t, trap_out);

    /* 4. The start function (4.5.4 step 16). */
    if (m->has_start) {
        slot none[1];
        t = exec_call(s, inst->funcs[m->start], none);
        if (t) return fail_trap(s, t, trap_out);
    }
    *out = inst;
    return NULL;

discard:
    instance_discard(s, inst, tables_made, mems_made);
    return err;
}

/* ---- exports ------------------------------------------------------------------------------------------------- */

void instance_extern(const k23vm_instance *inst, uint8_t kind, uint32_t index, k23vm_extern *out)
{
    memset(out, 0, sizeof *out);
    out->kind = (k23vm_externkind)kind;
    switch ((k23vm_externkind)kind) {
    case K23VM_EXTERN_FUNC: out->of.func = inst->funcs[index]; break;
    case K23VM_EXTERN_TABLE: out->of.table = inst->tables[index]; break;
    case K23VM_EXTERN_MEMORY: out->of.memory = inst->mems[index]; break;
    case K23VM_EXTERN_GLOBAL: out->of.global = inst->globals[index]; break;
    }
}

const k23vm_module *k23vm_instance_module(const k23vm_instance *inst) { return inst ? inst->module : NULL; }

bool k23vm_instance_export(const k23vm_instance *inst, const char *name, size_t len, k23vm_extern *out)
{
    if (!inst || (!name && len) || !out) return false;
    const k23vm_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const export *ex = &m->exports[i];
        if (ex->name.len == len && (len == 0 || !memcmp(ex->name.ptr, name, len))) {
            instance_extern(inst, ex->kind, ex->index, out);
            return true;
        }
    }
    return false;
}

size_t k23vm_instance_export_count(const k23vm_instance *inst) { return inst ? inst->module->nexports : 0; }

bool k23vm_instance_export_at(const k23vm_instance *inst, size_t i, k23vm_name *name, k23vm_extern *out)
{
    if (!inst || i >= inst->module->nexports) return false;
    const export *ex = &inst->module->exports[i];
    if (name) *name = (k23vm_name){ex->name.ptr, ex->name.len};
    if (out) instance_extern(inst, ex->kind, ex->index, out);
    return true;
}
