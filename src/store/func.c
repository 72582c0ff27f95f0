/* func.c - function instances (spec 4.2.6) and calls: host functions (raw and typed), the API's
 * k23vm_func_call, the one entry into the tiers (exec_call) with its activation record and fault
 * landing (runtime.h, ARCHITECTURE.md 7), the tiers' call of host functions (host_call), and the
 * caller handle host functions get.
 *
 * Values cross the API as k23vm_val and live in the VM as 8-byte slots (runtime.h); the
 * conversions are here. Re-entry: a host function may call wasm again through k23vm_func_call;
 * every such entry passes exec_call, which counts the entries nested on the C stack and refuses
 * one past the store's max_reentry, so host -> wasm -> host ... recursion ends in "call stack
 * exhausted" like wasm recursion does on the VM stack.
 */
#include "store.h"

/* ---- values ------------------------------------------------------------------------------------------ */

void val_to_slots(const k23vm_val *v, slot *out)
{
    switch (v->kind) {
    case K23VM_I32: out[0] = (uint32_t)v->of.i32; break;
    case K23VM_I64: out[0] = (uint64_t)v->of.i64; break;
    case K23VM_F32: {
        uint32_t bits;
        memcpy(&bits, &v->of.f32, 4);
        out[0] = bits;
        break;
    }
    case K23VM_F64: memcpy(&out[0], &v->of.f64, 8); break;
    case K23VM_V128: memcpy(out, v->of.v128, 16); break;
    case K23VM_FUNCREF: out[0] = (uintptr_t)v->of.funcref; break;
    case K23VM_EXTERNREF: out[0] = (uintptr_t)v->of.externref; break;
    default: out[0] = 0; break;
    }
}

void val_from_slots(valtype t, const slot *in, k23vm_val *out)
{
    memset(out, 0, sizeof *out);
    out->kind = (k23vm_valkind)t;
    switch (t) {
    case K23VM_I32: out->of.i32 = (int32_t)(uint32_t)in[0]; break;
    case K23VM_I64: out->of.i64 = (int64_t)in[0]; break;
    case K23VM_F32: {
        uint32_t bits = (uint32_t)in[0];
        memcpy(&out->of.f32, &bits, 4);
        break;
    }
    case K23VM_F64: memcpy(&out->of.f64, &in[0], 8); break;
    case K23VM_V128: memcpy(out->of.v128, in, 16); break;
    case K23VM_FUNCREF: out->of.funcref = (k23vm_func *)(uintptr_t)in[0]; break;
    case K23VM_EXTERNREF: out->of.externref = (void *)(uintptr_t)in[0]; break;
    default: break;
    }
}

bool val_fits(const k23vm_store *s, const k23vm_val *v, valtype t)
{
    if ((valtype)v->kind != t) return false;
    return t != K23VM_FUNCREF || !v->of.funcref || v->of.funcref->store == s;
}

static uint32_t types_slots(const valtype *t, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) k += valtype_slots(t[i]);
    return k;
}

static bool valkind_ok(k23vm_valkind k)
{
    return valtype_is_num((valtype)k) || k == K23VM_V128 || valtype_is_ref((valtype)k);
}

/* ---- host functions -------------------------------------------------------------------------------------- */

static k23vm_error *host_func_make(k23vm_store *s, uint32_t nparams, const k23vm_valkind *params, uint32_t nresults,
                                   const k23vm_valkind *results, k23vm_host_callback cb, void *env,
                                   void (*finalizer)(void *), k23vm_func **out)
{
    struct store_private *p = s->priv;
    for (uint32_t i = 0; i < nparams; i++)
        if (!valkind_ok(params[i])) return store_err(s, K23VM_ERROR_ARGUMENT, "parameter %u: invalid value type", i);
    for (uint32_t i = 0; i < nresults; i++)
        if (!valkind_ok(results[i])) return store_err(s, K23VM_ERROR_ARGUMENT, "result %u: invalid value type", i);
    size_t n = (size_t)nparams + nresults;
    k23vm_func *f = arena_zalloc(&p->arena, sizeof *f);
    k23vm_functype *api = arena_alloc(&p->arena, sizeof *api);
    k23vm_valkind *kinds = arena_alloc(&p->arena, n * sizeof *kinds);
    valtype *vt = arena_alloc(&p->arena, n);
    functype *ft = arena_alloc(&p->arena, sizeof *ft);
    if (!f || !api || !kinds || !vt || !ft) return err_oom();
    for (uint32_t i = 0; i < nparams; i++) kinds[i] = params[i], vt[i] = (valtype)params[i];
    for (uint32_t i = 0; i < nresults; i++) kinds[nparams + i] = results[i], vt[nparams + i] = (valtype)results[i];
    *api = (k23vm_functype){nparams, nresults, kinds, kinds + nparams};
    *ft = (functype){nparams, nresults, vt, vt + nparams};
    if (!store_intern_type(s, ft, &f->type_id)) return err_oom();
    if (finalizer && !VEC_PUSH(s->plat, &p->host_funcs, f)) return err_oom();
    f->kind = FUNC_HOST;
    f->type = ft;
    f->api_type = api;
    f->store = s;
    f->host = cb;
    f->env = env;
    f->finalizer = finalizer;
    *out = f;
    return NULL;
}

k23vm_error *k23vm_func_new(k23vm_store *s, const k23vm_functype *type, k23vm_host_callback cb, void *env,
                            void (*finalizer)(void *), k23vm_func **out)
{
    if (out) *out = NULL;
    if (!s || !type || !cb || !out) return err_static(ERR_STATIC_NULL_ARG);
    if (type->nparams > UINT32_MAX / 2 || type->nresults > UINT32_MAX / 2 || (type->nparams && !type->params) ||
        (type->nresults && !type->results))
        return store_err(s, K23VM_ERROR_ARGUMENT, "function type: bad parameter or result list");
    return host_func_make(s, (uint32_t)type->nparams, type->params, (uint32_t)type->nresults, type->results, cb, env,
                          finalizer, out);
}

/* The typed convenience: a raw host function whose env is this record. */
typedef struct typed_env {
    k23vm_typed_callback cb;
    void *env;
    void (*finalizer)(void *);
    const k23vm_func *self;
} typed_env;

enum { VAL_BUF = 16 };

static k23vm_trap *typed_trampoline(void *envp, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    typed_env *te = envp;
    const k23vm_functype *ft = te->self->api_type;
    k23vm_val buf[2 * VAL_BUF];
    k23vm_val *args = buf, *res = buf + VAL_BUF;
    k23vm_val *heap = NULL;
    size_t heap_bytes = 0;
    if (nargs > VAL_BUF || nresults > VAL_BUF) {
        heap_bytes = (nargs + nresults) * sizeof(k23vm_val);
        heap = mem_alloc(caller->store->plat, heap_bytes);
        if (!heap) return trap_new(caller->store, K23VM_TRAP_RESOURCE, NULL);
        args = heap;
        res = heap + nargs;
    }
    memcpy(args, ar, nargs * sizeof *args);
    for (size_t i = 0; i < nresults; i++) {
        memset(&res[i], 0, sizeof res[i]);
        res[i].kind = ft->results[i];
    }
    k23vm_trap *t = te->cb(te->env, caller, args, res);
    if (!t) memcpy(ar, res, nresults * sizeof *res);
    if (heap) mem_free(caller->store->plat, heap, heap_bytes);
    return t;
}

static void typed_finalizer(void *envp)
{
    typed_env *te = envp;
    if (te->finalizer) te->finalizer(te->env);
}

static bool sig_letter(char c, k23vm_valkind *k)
{
    switch (c) {
    case 'i': *k = K23VM_I32; return true;
    case 'I': *k = K23VM_I64; return true;
    case 'f': *k = K23VM_F32; return true;
    case 'F': *k = K23VM_F64; return true;
    case 'V': *k = K23VM_V128; return true;
    case 'r': *k = K23VM_FUNCREF; return true;
    case 'x': *k = K23VM_EXTERNREF; return true;
    default: return false;
    }
}

k23vm_error *k23vm_func_new_typed(k23vm_store *s, const char *sig, k23vm_typed_callback cb, void *env,
                                  void (*finalizer)(void *), k23vm_func **out)
{
    if (out) *out = NULL;
    if (!s || !sig || !cb || !out) return err_static(ERR_STATIC_NULL_ARG);
    size_t len = 0, arrow = SIZE_MAX;
    for (; sig[len]; len++) {
        k23vm_valkind k;
        if (sig[len] == '>' && arrow == SIZE_MAX) arrow = len;
        else if (!sig_letter(sig[len], &k) || len >= 100000)
            return store_err(s, K23VM_ERROR_ARGUMENT, "signature \"%s\": bad character at %zu", sig, len);
    }
    size_t np = arrow == SIZE_MAX ? len : arrow, nr = arrow == SIZE_MAX ? 0 : len - arrow - 1;
    k23vm_valkind *kinds = arena_alloc(&s->priv->arena, (np + nr) * sizeof *kinds);
    typed_env *te = arena_zalloc(&s->priv->arena, sizeof *te);
    if (!kinds || !te) return err_oom();
    for (size_t i = 0, k = 0; i < len; i++)
        if (i != arrow) sig_letter(sig[i], &kinds[k++]);
    te->cb = cb;
    te->env = env;
    te->finalizer = finalizer;
    k23vm_func *f = NULL;
    k23vm_error *err = host_func_make(s, (uint32_t)np, kinds, (uint32_t)nr, kinds + np, typed_trampoline, te,
                                      finalizer ? typed_finalizer : NULL, &f);
    if (err) return err;
    te->self = f;
    *out = f;
    return NULL;
}

const k23vm_functype *k23vm_func_type(const k23vm_func *f) { return f ? f->api_type : NULL; }

k23vm_store *k23vm_func_store(const k23vm_func *f) { return f ? f->store : NULL; }

/* ---- host_call: from a tier (or exec_call) into a host function ------------------------------------------- */

k23vm_trap *host_call_from(k23vm_store *s, k23vm_func *f, k23vm_instance *caller_inst, slot *ar)
{
    const functype *ft = f->type;
    uint32_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
    k23vm_val buf[VAL_BUF];
    k23vm_val *v = buf;
    size_t heap_bytes = 0;
    if (n > VAL_BUF) {
        heap_bytes = (size_t)n * sizeof *v;
        v = mem_alloc(s->plat, heap_bytes);
        if (!v) return trap_new(s, K23VM_TRAP_RESOURCE, NULL);
    }
    const slot *in = ar;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        val_from_slots(ft->params[i], in, &v[i]);
        in += valtype_slots(ft->params[i]);
    }
    k23vm_caller caller = {s, caller_inst};
    /* A fault while the host function runs is the host's, not a wasm trap (runtime.h). */
    exec_guard *g = s->guard;
    uint8_t was_in_host = g ? g->in_host : 0;
    if (g) g->in_host = 1;
    k23vm_trap *t = f->host(f->env, &caller, v, ft->nparams, ft->nresults);
    if (g) g->in_host = was_in_host;
    if (!t) {
        slot *o = ar;
        for (uint32_t i = 0; i < ft->nresults; i++) {
            if (!val_fits(s, &v[i], ft->results[i])) {
                t = trap_new(s, K23VM_TRAP_HOST, "host function returned a result of the wrong type");
                break;
            }
            val_to_slots(&v[i], o);
            o += valtype_slots(ft->results[i]);
        }
    }
    if (heap_bytes) mem_free(s->plat, v, heap_bytes);
    return t;
}

k23vm_trap *host_call(k23vm_store *s, k23vm_func *f, slot *ar) { return host_call_from(s, f, NULL, ar); }

/* ---- exec_call: every entry into a tier --------------------------------------------------------------------- */

k23vm_trap *(*exec_tier)(k23vm_store *s, k23vm_func *f, slot *args_results) = interp_call;

/* The guarded entry (guard-page mode): publish the activation in the thread slot and leave a
 * landing for k23vm_handle_fault (fault.c). Everything the landing path needs is read from *g,
 * which lives in exec_call's frame, so nothing depends on registers clobbered by the fault. */
static K23VM_NOINLINE k23vm_trap *exec_guarded(exec_guard *g, slot *area)
{
    k23vm_trap *t;
    if (arch_ctx_save(&g->landing) == 0) {
        void **tls = g->store->plat->thread_slot(g->store->plat->ctx);
        g->thread_prev = *tls;
        *tls = g;
        t = exec_tier(g->store, g->func, area);
    } else {
        /* Resumed by a fault: the tier's C frames are gone (runtime.h). */
        t = trap_new(g->store, (k23vm_trap_code)g->fault_code, NULL);
        if (g->unwind) g->unwind(g, t);
    }
    void **tls = g->store->plat->thread_slot(g->store->plat->ctx);
    *tls = g->thread_prev;
    return t;
}

k23vm_trap *exec_call(k23vm_store *s, k23vm_func *f, slot *args_results)
{
    if (s->reentry >= s->max_reentry) return trap_new(s, K23VM_TRAP_STACK_EXHAUSTED, NULL);
    if (__atomic_load_n(&s->interrupt, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&s->interrupt, 0, __ATOMIC_RELAXED);
        return trap_new(s, K23VM_TRAP_INTERRUPTED, NULL);
    }
    if (!store_ensure_stack(s)) return trap_new(s, K23VM_TRAP_RESOURCE, "out of memory for the VM stack");
    const functype *ft = f->type;
    uint32_t nin = types_slots(ft->params, ft->nparams), nout = types_slots(ft->results, ft->nresults);
    uint32_t need = nin > nout ? nin : nout;
    slot *area = s->stack_top;
    if ((size_t)(s->stack_limit - area) < need) return trap_new(s, K23VM_TRAP_STACK_EXHAUSTED, NULL);
    if (area != args_results && nin) memmove(area, args_results, nin * sizeof(slot));

    exec_guard g;
    memset(&g, 0, sizeof g);
    g.prev = s->guard;
    g.store = s;
    g.func = f;
    g.stack_top = area;
    s->guard = &g;
    s->reentry++;
    k23vm_trap *t;
    if (f->kind == FUNC_HOST) {
        /* Called straight from the API: the host function's own re-entries start past its slots. */
        s->stack_top = area + need;
        t = host_call_from(s, f, NULL, area);
    } else if (s->engine->bounds == K23VM_BOUNDS_GUARD) {
        t = exec_guarded(&g, area);
    } else {
        t = exec_tier(s, f, area);
    }
    s->reentry--;
    s->guard = g.prev;
    s->stack_top = g.stack_top;
    if (!t) {
        if (area != args_results && nout) memmove(args_results, area, nout * sizeof(slot));
    } else if (trap_code(t) == K23VM_TRAP_INTERRUPTED) {
        /* Delivered: the request is done (k23vm_store_interrupt). */
        __atomic_store_n(&s->interrupt, 0, __ATOMIC_RELAXED);
    }
    return t;
}

/* ---- k23vm_func_call -------------------------------------------------------------------------------------------- */

k23vm_error *k23vm_func_call(k23vm_store *s, k23vm_func *f, const k23vm_val *args, size_t nargs, k23vm_val *results,
                             size_t nresults, k23vm_trap **trap)
{
    if (trap) *trap = NULL;
    if (!s || !f || !trap) return err_static(ERR_STATIC_NULL_ARG);
    if (f->store != s) return store_err(s, K23VM_ERROR_ARGUMENT, "function belongs to another store");
    const functype *ft = f->type;
    if (nargs != ft->nparams)
        return store_err(s, K23VM_ERROR_ARGUMENT, "expected %u arguments, got %zu", ft->nparams, nargs);
    if (nresults != ft->nresults)
        return store_err(s, K23VM_ERROR_ARGUMENT, "expected room for %u results, got %zu", ft->nresults, nresults);
    if ((nargs && !args) || (nresults && !results)) return err_static(ERR_STATIC_NULL_ARG);
    for (size_t i = 0; i < nargs; i++)
        if (!val_fits(s, &args[i], ft->params[i]))
            return store_err(s, K23VM_ERROR_ARGUMENT, "argument %zu: expected %s, got %s%s", i,
                             k23vm_valkind_name((k23vm_valkind)ft->params[i]), k23vm_valkind_name(args[i].kind),
                             args[i].kind == (k23vm_valkind)ft->params[i] ? " of another store" : "");

    if (!store_ensure_stack(s)) {
        *trap = trap_new(s, K23VM_TRAP_RESOURCE, "out of memory for the VM stack");
        return NULL;
    }
    uint32_t nin = types_slots(ft->params, ft->nparams), nout = types_slots(ft->results, ft->nresults);
    slot *area = s->stack_top;
    if ((size_t)(s->stack_limit - area) < (nin > nout ? nin : nout)) {
        *trap = trap_new(s, K23VM_TRAP_STACK_EXHAUSTED, NULL);
        return NULL;
    }
    slot *o = area;
    for (size_t i = 0; i < nargs; i++) {
        val_to_slots(&args[i], o);
        o += valtype_slots(ft->params[i]);
    }
    k23vm_trap *t = exec_call(s, f, area);
    if (t) {
        *trap = t;
        return NULL;
    }
    const slot *in = area;
    for (size_t i = 0; i < nresults; i++) {
        val_from_slots(ft->results[i], in, &results[i]);
        in += valtype_slots(ft->results[i]);
    }
    return NULL;
}

/* ---- the caller handle -------------------------------------------------------------------------------------------- */

k23vm_store *k23vm_caller_store(const k23vm_caller *c) { return c ? c->store : NULL; }

k23vm_instance *k23vm_caller_instance(const k23vm_caller *c) { return c ? c->inst : NULL; }

k23vm_memory *k23vm_caller_memory(const k23vm_caller *c)
{
    if (!c || !c->inst || c->inst->module->nmems == 0) return NULL;
    return c->inst->mems[0];
}

bool k23vm_caller_export(const k23vm_caller *c, const char *name, size_t len, k23vm_extern *out)
{
    if (!c || !c->inst) return false;
    return k23vm_instance_export(c->inst, name, len, out);
}
