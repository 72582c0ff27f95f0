/* validate.c - validation (spec 3): module-level rules (3.4) and the typing of function bodies
 * (3.3), the latter by the algorithm of the spec's appendix ("Validation Algorithm"): an operand
 * stack of value types with an Unknown type for the polymorphic stack after unreachable code, and a
 * control stack of block frames.
 *
 * Pipeline position: runs after decode.c, which split function bodies off as byte ranges; this is
 * where their instructions are read (through insn_read, the one decoder of instruction bytes), so
 * some malformed-module errors of bodies (5.4) are found here too. Each validated instruction goes
 * to an optional sink (validate.h): the interpreter translator and the JIT front end.
 *
 * Malformed beats invalid: the spec decodes the whole module before it validates anything, so a
 * malformed body anywhere wins over an invalid construct found earlier. After the first invalid
 * error, bodies are therefore still read, in "skim" mode: structure only (nesting, `else`
 * placement, the data count rule, the body size), no typing.
 *
 * Cost: the hot path is one insn_read, one table lookup of the fixed signature and a compare per
 * operand; the stacks are arrays reused across all functions of a module; no allocation per
 * instruction; no sink call without a sink.
 */
#include "validate.h"

#include <stdarg.h>

#include "error.h"
#include "fmt.h"

/* The appendix algorithm's Unknown: an operand of any type, produced only by popping an empty
 * polymorphic stack. Zero, which is no valtype. Sinks see it in dead code only. */
#define VT_UNKNOWN 0

/* Locals of a function: up to this many beyond the body size get a flat type table; the rest are
 * found by binary search over the local runs, so that a body declaring millions of locals (5.5.13
 * allows up to 2^32-1) costs no memory per local. */
#define LOCALS_FLAT_BASE 4096u

/* A single value type as a one-element result list: block types `valtype` point here (3.2.2). */
static const valtype vt_self[256] = {
    [K23VM_I32] = K23VM_I32,   [K23VM_I64] = K23VM_I64,       [K23VM_F32] = K23VM_F32,
    [K23VM_F64] = K23VM_F64,   [K23VM_V128] = K23VM_V128,     [K23VM_FUNCREF] = K23VM_FUNCREF,
    [K23VM_EXTERNREF] = K23VM_EXTERNREF,
};

/* ---- scratch state, reused across the functions of one validation ------------------------------ */

typedef struct vctx {
    const k23vm_module *m;
    const k23vm_platform *plat;
    const val_sink *sink;

    valtype *stk; /* operand stack */
    uint32_t h, stk_cap;
    val_ctrl *ctl; /* control stack; ctl[0] is the function body */
    uint32_t depth, ctl_cap;
    uint32_t max_h, max_d;

    /* Locals of the current function. */
    uint64_t nlocals; /* parameters + declared */
    uint32_t nparams;
    const valtype *params;
    valtype *flat; /* types of locals [0, nflat) */
    uint32_t nflat, flat_cap;
    uint64_t *run_end; /* cumulative counts of the local runs, for indices >= nflat */
    uint32_t run_cap;
    const localrun *runs;
    uint32_t nruns;

    const uint8_t *body_end;
    k23vm_error *err; /* the first error */
    val_state vs;
} vctx;

static void vctx_init(vctx *v, const k23vm_module *m)
{
    memset(v, 0, sizeof *v);
    v->m = m;
    v->plat = m->plat;
}

static void vctx_free(vctx *v)
{
    mem_free(v->plat, v->stk, v->stk_cap * sizeof *v->stk);
    mem_free(v->plat, v->ctl, v->ctl_cap * sizeof *v->ctl);
    mem_free(v->plat, v->flat, v->flat_cap * sizeof *v->flat);
    mem_free(v->plat, v->run_end, v->run_cap * sizeof *v->run_end);
}

/* Grows *data (cap elements of size elem) to hold at least need elements. */
static K23VM_NOINLINE bool grow(vctx *v, void **data, uint32_t *cap, uint64_t need, size_t elem)
{
    uint64_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    if (n > UINT32_MAX / 2 || n * elem > SIZE_MAX / 2) return false;
    void *p = mem_realloc(v->plat, *data, *cap * elem, (size_t)n * elem);
    if (!p) return false;
    *data = p;
    *cap = (uint32_t)n;
    return true;
}

/* ---- errors ------------------------------------------------------------------------------------ */

static K23VM_COLD bool fail(vctx *v, k23vm_error_kind kind, size_t off, const char *f, ...) K23VM_PRINTF(4, 5);
static bool fail(vctx *v, k23vm_error_kind kind, size_t off, const char *f, ...)
{
    if (v->err) return false;
    char buf[160];
    va_list ap;
    va_start(ap, f);
    fmt_v(buf, sizeof buf, f, ap);
    va_end(ap);
    v->err = err_new(v->plat, kind, off, "%s", buf);
    return false;
}

#define INVALID(off, ...) fail(v, K23VM_ERROR_INVALID, (off), __VA_ARGS__)
#define MALFORMED(off, ...) fail(v, K23VM_ERROR_MALFORMED, (off), __VA_ARGS__)

static K23VM_COLD bool mismatch(vctx *v, size_t off) { return INVALID(off, "type mismatch"); }

static K23VM_COLD bool oom(vctx *v)
{
    if (!v->err) v->err = err_oom();
    return false;
}

static K23VM_COLD bool read_failed(vctx *v, const reader *r)
{
    return MALFORMED(r->err_off, "%s", r->err ? r->err : "unexpected end");
}

/* ---- operand and control stacks (appendix: push_val, pop_val, push_ctrl, pop_ctrl) -------------- */

K23VM_INLINE bool push(vctx *v, valtype t)
{
    if (K23VM_UNLIKELY(v->h >= v->stk_cap) && !grow(v, (void **)&v->stk, &v->stk_cap, (uint64_t)v->h + 1, 1))
        return oom(v);
    v->stk[v->h++] = t;
    if (v->h > v->max_h) v->max_h = v->h;
    return true;
}

static bool push_vals(vctx *v, const valtype *ts, uint32_t n)
{
    if (n == 0) return true;
    if ((uint64_t)v->h + n > v->stk_cap && !grow(v, (void **)&v->stk, &v->stk_cap, (uint64_t)v->h + n, 1))
        return oom(v);
    for (uint32_t i = 0; i < n; i++) v->stk[v->h + i] = ts[i]; /* mostly 1 or 2: no memcpy call */
    v->h += n;
    if (v->h > v->max_h) v->max_h = v->h;
    return true;
}

/* pop_val(): Unknown when the current block's stack is empty and polymorphic. */
K23VM_INLINE bool pop_any(vctx *v, valtype *out, size_t off)
{
    const val_ctrl *top = &v->ctl[v->depth - 1];
    if (K23VM_UNLIKELY(v->h == top->height)) {
        *out = VT_UNKNOWN;
        return top->unreachable ? true : mismatch(v, off);
    }
    *out = v->stk[--v->h];
    return true;
}

K23VM_INLINE bool pop_expect(vctx *v, valtype want, size_t off)
{
    const val_ctrl *top = &v->ctl[v->depth - 1];
    if (K23VM_UNLIKELY(v->h == top->height)) return top->unreachable ? true : mismatch(v, off);
    valtype t = v->stk[--v->h];
    if (K23VM_UNLIKELY(t != want) && t != VT_UNKNOWN) return mismatch(v, off);
    return true;
}

/* pop_vals(ts): ts[n-1] is on top. Popping only lowers h; the popped entries stay in the array,
 * which lets a sink see an instruction's operands after they were checked (see sink_insn). */
K23VM_INLINE bool pop_vals(vctx *v, const valtype *ts, uint32_t n, size_t off)
{
    const val_ctrl *top = &v->ctl[v->depth - 1];
    if (K23VM_LIKELY(v->h - top->height >= n)) {
        const valtype *o = v->stk + v->h - n;
        for (uint32_t i = 0; i < n; i++)
            if (K23VM_UNLIKELY(o[i] != ts[i]) && o[i] != VT_UNKNOWN) return mismatch(v, off);
        v->h -= n;
        return true;
    }
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(v, ts[i], off)) return false;
    return true;
}

static bool push_ctrl(vctx *v, uint16_t op, uint32_t off, uint32_t np, const valtype *p, uint32_t nr,
                      const valtype *res)
{
    if (v->depth >= v->ctl_cap && !grow(v, (void **)&v->ctl, &v->ctl_cap, (uint64_t)v->depth + 1, sizeof *v->ctl))
        return oom(v);
    val_ctrl *c = &v->ctl[v->depth++];
    c->op = op;
    c->unreachable = false;
    c->height = v->h;
    c->start = off;
    c->nparams = np;
    c->params = p;
    c->nresults = nr;
    c->results = res;
    if (v->depth > v->max_d) v->max_d = v->depth;
    return push_vals(v, p, np);
}

/* unreachable(): drop the block's operands; the rest of it is typed against Unknown. */
K23VM_INLINE void set_unreachable(vctx *v)
{
    val_ctrl *top = &v->ctl[v->depth - 1];
    v->h = top->height;
    top->unreachable = true;
}

/* label_types (3.3.5): a loop's label takes its parameters, every other block's its results. */
K23VM_INLINE const valtype *label_types(const val_ctrl *c, uint32_t *n)
{
    if (c->op == OP_loop) {
        *n = c->nparams;
        return c->params;
    }
    *n = c->nresults;
    return c->results;
}

/* ---- locals ------------------------------------------------------------------------------------ */

static bool locals_setup(vctx *v, const functype *ft, const func *f)
{
    v->nparams = ft->nparams;
    v->params = ft->params;
    v->runs = f->runs;
    v->nruns = f->nruns;
    v->nlocals = (uint64_t)ft->nparams + f->nlocals;
    uint64_t cap = LOCALS_FLAT_BASE + (uint64_t)(f->body_end - f->body_start);
    uint32_t nflat = (uint32_t)(v->nlocals < cap ? v->nlocals : cap);
    if (nflat > v->flat_cap && !grow(v, (void **)&v->flat, &v->flat_cap, nflat, 1)) return oom(v);
    uint32_t k = nflat < ft->nparams ? nflat : ft->nparams;
    if (k) memcpy(v->flat, ft->params, k);
    for (uint32_t i = 0; i < f->nruns && k < nflat; i++) {
        uint32_t c = f->runs[i].count;
        if (c > nflat - k) c = nflat - k;
        memset(v->flat + k, f->runs[i].type, c);
        k += c;
    }
    v->nflat = nflat;
    if (nflat < v->nlocals) {
        if (f->nruns > v->run_cap && !grow(v, (void **)&v->run_end, &v->run_cap, f->nruns, sizeof *v->run_end))
            return oom(v);
        uint64_t acc = 0;
        for (uint32_t i = 0; i < f->nruns; i++) v->run_end[i] = acc += f->runs[i].count;
    }
    return true;
}

static K23VM_NOINLINE valtype local_type_slow(const vctx *v, uint64_t idx)
{
    uint64_t j = idx - v->nparams;
    uint32_t lo = 0, hi = v->nruns; /* first run whose end exceeds j */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->run_end[mid] > j) hi = mid;
        else lo = mid + 1;
    }
    return v->runs[lo].type;
}

/* The type of local idx, or 0 when there is no such local. */
K23VM_INLINE valtype local_type(const vctx *v, uint32_t idx)
{
    if (K23VM_LIKELY(idx < v->nflat)) return v->flat[idx];
    if (idx >= v->nlocals) return 0;
    return local_type_slow(v, idx);
}

valtype val_local_type(const val_state *vs, uint32_t idx)
{
    if (idx >= vs->nlocals) return 0;
    if (vs->local_types) return vs->local_types[idx];
    const functype *ft = module_functype(vs->module, vs->funcidx);
    if (idx < ft->nparams) return ft->params[idx];
    const func *f = &vs->module->funcs[vs->funcidx - vs->module->nfunc_imports];
    uint64_t j = idx - ft->nparams;
    for (uint32_t i = 0; i < f->nruns; i++) {
        if (j < f->runs[i].count) return f->runs[i].type;
        j -= f->runs[i].count;
    }
    return 0;
}

/* ---- the sink ---------------------------------------------------------------------------------- */

/* Hands `in` to the sink with the stack as it was before the instruction: its operands, popped
 * by the checks, are still in the array above h, so restoring the height shows them again. */
static K23VM_NOINLINE bool sink_insn(vctx *v, const insn *in, uint32_t h_before)
{
    v->vs.stack = v->stk;
    v->vs.height = h_before;
    v->vs.ctrl = v->ctl;
    v->vs.depth = v->depth;
    k23vm_error *e = v->sink->insn(v->sink->ctx, in, &v->vs);
    if (e) {
        if (!v->err) v->err = e;
        else k23vm_error_delete(e);
        return false;
    }
    return true;
}

#define SINK(h_before)                                                                    \
    do {                                                                                  \
        if (v->sink && !sink_insn(v, &in, (h_before))) goto sink_failed;                  \
    } while (0)

/* ---- immediates of fixed-signature instructions (by immediate kind, from the opcode table) ----- */

static bool check_mem(vctx *v, size_t off)
{
    if (v->m->nmems == 0) return INVALID(off, "unknown memory 0");
    return true;
}

static bool check_table(vctx *v, uint32_t t, size_t off)
{
    if (t >= v->m->ntables) return INVALID(off, "unknown table %u", t);
    return true;
}

/* memory.init and data.drop need a data count section (5.5.16) so that bodies can be validated
 * in one pass, when there are data segments; the reference decoder lets a module without any
 * data segments go on to validation, which reports the unknown segment (memory_init.wast). */
K23VM_INLINE bool datacount_missing(const k23vm_module *m) { return !m->has_datacount && m->ndatas > 0; }

/* C.datas: the data count (decode.c checked it against the data section), or the segments. */
static bool check_data(vctx *v, uint32_t x, size_t off)
{
    const k23vm_module *m = v->m;
    if (datacount_missing(m)) return MALFORMED(off, "data count section required");
    if (x >= (m->has_datacount ? m->datacount : m->ndatas)) return INVALID(off, "unknown data segment %u", x);
    return true;
}

static bool check_elem(vctx *v, uint32_t x, size_t off)
{
    if (x >= v->m->nelems) return INVALID(off, "unknown elem segment %u", x);
    return true;
}

static K23VM_NOINLINE bool check_imm(vctx *v, const insn *in, const opinfo *oi)
{
    const k23vm_module *m = v->m;
    size_t off = in->offset;
    switch ((imm_kind)oi->imm) {
    case IMM_memarg_lane:
        if (in->u.mem.lane >= (16u >> oi->aux)) {
            if (!check_mem(v, off)) return false;
            return INVALID(off, "invalid lane index");
        }
        /* fall through */
    case IMM_memarg: /* 3.3.7: 2^align must not exceed the access width */
        if (!check_mem(v, off)) return false;
        if (in->u.mem.align > oi->aux) return INVALID(off, "alignment must not be larger than natural");
        return true;
    case IMM_lane: /* 3.3.3: laneidx < the shape's lane count */
        if (in->u.lane >= oi->aux) return INVALID(off, "invalid lane index");
        return true;
    case IMM_shuffle:
        for (int i = 0; i < 16; i++)
            if (in->u.v128[i] >= oi->aux) return INVALID(off, "invalid lane index");
        return true;
    case IMM_mem:
    case IMM_mem_copy:
    case IMM_mem_fill:
        return check_mem(v, off);
    case IMM_mem_init:
        if (datacount_missing(m)) return MALFORMED(off, "data count section required");
        return check_mem(v, off) && check_data(v, in->u.pair.a, off);
    case IMM_data:
        return check_data(v, in->u.index, off);
    case IMM_table:
        return check_table(v, in->u.index, off);
    case IMM_elem:
        return check_elem(v, in->u.index, off);
    case IMM_table_init: /* 3.3.6: elem x's type must be table t's element type */
        if (!check_table(v, in->u.pair.b, off) || !check_elem(v, in->u.pair.a, off)) return false;
        if (m->tables[in->u.pair.b].elem != m->elems[in->u.pair.a].type) return mismatch(v, off);
        return true;
    case IMM_table_copy:
        if (!check_table(v, in->u.pair.a, off) || !check_table(v, in->u.pair.b, off)) return false;
        if (m->tables[in->u.pair.a].elem != m->tables[in->u.pair.b].elem) return mismatch(v, off);
        return true;
    default:
        return true;
    }
}

/* ---- block types (3.2.2, 3.3.5) ---------------------------------------------------------------- */

bool val_block_type(const k23vm_module *m, int64_t bt, functype *out)
{
    out->nparams = out->nresults = 0;
    out->params = out->results = NULL;
    if (bt == INSN_BLOCK_EMPTY) return true;
    if (bt < 0) {
        out->nresults = 1;
        out->results = &vt_self[insn_block_valtype(bt)];
        return true;
    }
    if ((uint64_t)bt >= m->ntypes) return false;
    *out = m->types[bt];
    return true;
}

/* ---- structure only: the part of body reading that decides malformed-ness -------------------- */

/* The nesting effect of `in` and its malformed-module rules, without typing. Returns false with
 * v->err set on a malformed error; sets *done when the function's final `end` was read. */
static bool structural(vctx *v, const insn *in, const reader *r, bool *done)
{
    switch (in->op) {
    case OP_block:
    case OP_loop:
    case OP_if:
        if (v->depth >= v->ctl_cap && !grow(v, (void **)&v->ctl, &v->ctl_cap, (uint64_t)v->depth + 1, sizeof *v->ctl))
            return oom(v);
        v->ctl[v->depth].op = in->op;
        v->ctl[v->depth].height = v->h;
        v->ctl[v->depth].nparams = v->ctl[v->depth].nresults = 0;
        v->ctl[v->depth].unreachable = true;
        v->depth++;
        return true;
    case OP_else: /* the decoder's view (5.4.1): `else` only closes the then-branch of an `if` */
        if (v->ctl[v->depth - 1].op != OP_if) return MALFORMED(in->offset, "END opcode expected");
        v->ctl[v->depth - 1].op = OP_else;
        return true;
    case OP_end:
        if (--v->depth == 0) {
            *done = true;
            /* The function's size must match the instructions read (5.5.13). */
            if (r->p != v->body_end) return MALFORMED(in->offset, "section size mismatch");
        }
        return true;
    case OP_memory_init:
    case OP_data_drop:
        if (datacount_missing(v->m)) return MALFORMED(in->offset, "data count section required");
        return true;
    default:
        return true;
    }
}

/* Reads the rest of a body for malformed errors only, from r->p with the control stack as it is.
 * The reader may run past the body's end: the reference decoder reads a body as the instructions
 * up to its final `end` and compares the size afterwards, and the spec tests expect its errors
 * ("END opcode expected", "section size mismatch"). */
static void skim(vctx *v, reader *r)
{
    insn in;
    bool done = false;
    r->end = r->mod_end;
    while (!done) {
        if (!insn_read(r, &in)) {
            read_failed(v, r);
            return;
        }
        if (!structural(v, &in, r, &done)) return;
    }
}

/* ---- function bodies (3.3, appendix) ------------------------------------------------------------- */

/* Types the body of defined function defidx. With typing off (an invalid error was already found
 * elsewhere) only its structure is read. On an invalid error the rest is still skimmed, and a
 * malformed error found there replaces it. */
static k23vm_error *func_body(vctx *v, uint32_t defidx, bool typing)
{
    const k23vm_module *m = v->m;
    const func *f = &m->funcs[defidx];
    reader r;
    rd_init(&r, m->bytes, m->size);
    r.p = m->bytes + f->body_start;
    r.end = v->body_end = m->bytes + f->body_end;

    v->err = NULL;
    v->h = v->depth = v->max_h = v->max_d = 0;
    insn in;
    bool done = false;

    if (!typing) { /* the type index itself may be the invalid thing */
        if (!push_ctrl(v, OP_COUNT_, f->body_start, 0, NULL, 0, NULL)) return v->err;
        skim(v, &r);
        return v->err;
    }
    const functype *ft = &m->types[f->typeidx];
    /* The operand stack exists from the start: pop_vals forms pointers into it even for n = 0. */
    if (!v->stk && !grow(v, (void **)&v->stk, &v->stk_cap, 64, 1)) return oom(v), v->err;
    if (!locals_setup(v, ft, f)) return v->err;
    if (!push_ctrl(v, OP_COUNT_, f->body_start, 0, NULL, ft->nresults, ft->results)) return v->err;

    v->vs.module = m;
    v->vs.funcidx = m->nfunc_imports + defidx;
    v->vs.nlocals = v->nlocals > UINT32_MAX ? UINT32_MAX : (uint32_t)v->nlocals;
    v->vs.local_types = v->nflat == v->nlocals ? v->flat : NULL;
    if (v->sink) {
        v->vs.stack = v->stk;
        v->vs.height = v->h;
        v->vs.ctrl = v->ctl;
        v->vs.depth = v->depth;
        if (v->sink->begin) {
            k23vm_error *e = v->sink->begin(v->sink->ctx, &v->vs);
            if (e) return v->err = e;
        }
    }

    for (;;) {
        const uint8_t *ip = r.p;
        if (K23VM_UNLIKELY(!insn_read_fast(&r, &in))) {
            /* A read failure inside the body is malformed whatever else happens; one that ran into
             * the body's end is re-read the reference decoder's way, past it. */
            if (r.err_off >= (size_t)(v->body_end - m->bytes)) {
                r.p = ip;
                r.err = NULL;
                skim(v, &r);
                return v->err;
            }
            read_failed(v, &r);
            return v->err;
        }
        const opinfo *oi = &op_info[in.op];
        uint32_t h0 = v->h;
        size_t off = in.offset;

        /* Fixed signatures: the common case, straight from the table. */
        if (K23VM_LIKELY(oi->sig != SIG_special)) {
            if (oi->imm != IMM_none) {
                /* Plain loads and stores inline: a memory, and an alignment within the natural. */
                bool mem_ok = oi->imm == IMM_memarg && m->nmems && in.u.mem.align <= oi->aux;
                if (!mem_ok && !check_imm(v, &in, oi)) goto invalid;
            }
            const siginfo *s = &sig_info[oi->sig];
            if (!pop_vals(v, s->params, s->nparams, off)) goto invalid;
            SINK(h0);
            if (s->result && !push(v, s->result)) goto invalid;
            continue;
        }

        val_ctrl *top = &v->ctl[v->depth - 1];
        switch (in.op) {
        /* -- control (3.3.8) -- */
        case OP_unreachable:
            SINK(h0);
            set_unreachable(v);
            break;
        case OP_block:
        case OP_loop:
        case OP_if: {
            functype bt;
            if (!val_block_type(m, in.u.blocktype, &bt)) {
                INVALID(off, "unknown type %lld", (long long)in.u.blocktype);
                goto invalid;
            }
            if (in.op == OP_if && !pop_expect(v, K23VM_I32, off)) goto invalid;
            if (!pop_vals(v, bt.params, bt.nparams, off)) goto invalid;
            SINK(h0);
            if (!push_ctrl(v, in.op, in.offset, bt.nparams, bt.params, bt.nresults, bt.results)) goto invalid;
            break;
        }
        case OP_else:
            if (top->op != OP_if) {
                MALFORMED(off, "END opcode expected");
                return v->err;
            }
            if (!pop_vals(v, top->results, top->nresults, off)) goto invalid;
            if (v->h != top->height) {
                mismatch(v, off);
                goto invalid;
            }
            SINK(h0);
            top->op = OP_else;
            top->unreachable = false;
            if (!push_vals(v, top->params, top->nparams)) goto invalid;
            break;
        case OP_end:
            if (!pop_vals(v, top->results, top->nresults, off)) goto invalid;
            if (v->h != top->height) {
                mismatch(v, off);
                goto invalid;
            }
            /* An `if` without `else` has an empty else branch, which must map the block's
             * parameters to its results (3.3.8: if with else omitted). */
            if (top->op == OP_if && (top->nparams | top->nresults) &&
                (top->nparams != top->nresults || memcmp(top->params, top->results, top->nparams) != 0)) {
                mismatch(v, off);
                goto invalid;
            }
            SINK(h0);
            {
                val_ctrl done_frame = *top;
                v->depth--;
                if (v->depth == 0) {
                    if (r.p != v->body_end) {
                        MALFORMED(off, "section size mismatch");
                        return v->err;
                    }
                    if (v->sink && v->sink->end) {
                        /* After the function: its results on the stack, no blocks left. */
                        if (!push_vals(v, done_frame.results, done_frame.nresults)) return v->err;
                        v->vs.stack = v->stk;
                        v->vs.height = v->h;
                        v->vs.depth = 0;
                        k23vm_error *e = v->sink->end(v->sink->ctx, &v->vs);
                        if (e) return v->err = e;
                    }
                    return NULL;
                }
                if (!push_vals(v, done_frame.results, done_frame.nresults)) goto invalid;
            }
            break;
        case OP_br:
        case OP_br_if: {
            uint32_t l = in.u.index, n;
            if (l >= v->depth) {
                INVALID(off, "unknown label");
                goto invalid;
            }
            if (in.op == OP_br_if && !pop_expect(v, K23VM_I32, off)) goto invalid;
            const valtype *ts = label_types(&v->ctl[v->depth - 1 - l], &n);
            if (!pop_vals(v, ts, n, off)) goto invalid;
            SINK(h0);
            if (in.op == OP_br) set_unreachable(v);
            else if (!push_vals(v, ts, n)) goto invalid;
            break;
        }
        case OP_br_table: {
            /* Appendix: every label's types must match the operands, with the arity of the
             * default; checking without popping equals its pop-then-push-back. */
            uint32_t nd, n;
            if (!pop_expect(v, K23VM_I32, off)) goto invalid;
            if (in.u.br_table.deflt >= v->depth) {
                INVALID(off, "unknown label");
                goto invalid;
            }
            const valtype *dts = label_types(&v->ctl[v->depth - 1 - in.u.br_table.deflt], &nd);
            reader lr = insn_br_table_labels(m->bytes, m->size, &in);
            uint32_t h1 = v->h;
            for (uint32_t i = 0; i < in.u.br_table.count; i++) {
                uint32_t l = 0;
                rd_u32(&lr, &l); /* read once already by insn_read */
                if (l >= v->depth) {
                    INVALID(off, "unknown label");
                    goto invalid;
                }
                const valtype *ts = label_types(&v->ctl[v->depth - 1 - l], &n);
                if (n != nd) {
                    mismatch(v, off);
                    goto invalid;
                }
                if (!pop_vals(v, ts, n, off)) goto invalid;
                v->h = h1;
            }
            if (!pop_vals(v, dts, nd, off)) goto invalid;
            SINK(h0);
            set_unreachable(v);
            break;
        }
        case OP_return: {
            const val_ctrl *fn = &v->ctl[0];
            if (!pop_vals(v, fn->results, fn->nresults, off)) goto invalid;
            SINK(h0);
            set_unreachable(v);
            break;
        }
        case OP_call: {
            if (in.u.index >= m->nfuncs) {
                INVALID(off, "unknown function %u", in.u.index);
                goto invalid;
            }
            const functype *ct = module_functype(m, in.u.index);
            if (!pop_vals(v, ct->params, ct->nparams, off)) goto invalid;
            SINK(h0);
            if (!push_vals(v, ct->results, ct->nresults)) goto invalid;
            break;
        }
        case OP_call_indirect: {
            uint32_t t = in.u.call_ind.table, ti = in.u.call_ind.type;
            if (!check_table(v, t, off)) goto invalid;
            if (m->tables[t].elem != K23VM_FUNCREF) {
                mismatch(v, off);
                goto invalid;
            }
            if (ti >= m->ntypes) {
                INVALID(off, "unknown type %u", ti);
                goto invalid;
            }
            const functype *ct = &m->types[ti];
            if (!pop_expect(v, K23VM_I32, off) || !pop_vals(v, ct->params, ct->nparams, off)) goto invalid;
            SINK(h0);
            if (!push_vals(v, ct->results, ct->nresults)) goto invalid;
            break;
        }
        /* -- parametric (3.3.4) -- */
        case OP_drop: {
            valtype t;
            if (!pop_any(v, &t, off)) goto invalid;
            SINK(h0);
            break;
        }
        case OP_select: {
            /* Untyped select: both operands numeric or both vectors (Unknown is either). */
            valtype t1, t2;
            if (!pop_expect(v, K23VM_I32, off) || !pop_any(v, &t1, off) || !pop_any(v, &t2, off)) goto invalid;
            if (valtype_is_ref(t1) || valtype_is_ref(t2) ||
                (t1 != t2 && t1 != VT_UNKNOWN && t2 != VT_UNKNOWN)) {
                mismatch(v, off);
                goto invalid;
            }
            SINK(h0);
            if (!push(v, t1 == VT_UNKNOWN ? t2 : t1)) goto invalid;
            break;
        }
        case OP_select_t: {
            if (in.u.select.count != 1) {
                INVALID(off, "invalid result arity");
                goto invalid;
            }
            valtype t = in.u.select.type;
            if (!pop_expect(v, K23VM_I32, off) || !pop_expect(v, t, off) || !pop_expect(v, t, off)) goto invalid;
            SINK(h0);
            if (!push(v, t)) goto invalid;
            break;
        }
        /* -- variables (3.3.5) -- */
        case OP_local_get:
        case OP_local_set:
        case OP_local_tee: {
            valtype t = local_type(v, in.u.index);
            if (!t) {
                INVALID(off, "unknown local %u", in.u.index);
                goto invalid;
            }
            if (in.op != OP_local_get && !pop_expect(v, t, off)) goto invalid;
            SINK(h0);
            if (in.op != OP_local_set && !push(v, t)) goto invalid;
            break;
        }
        case OP_global_get:
        case OP_global_set: {
            if (in.u.index >= m->nglobals) {
                INVALID(off, "unknown global %u", in.u.index);
                goto invalid;
            }
            const globaltype *g = &m->globaltypes[in.u.index];
            if (in.op == OP_global_set) {
                if (!g->mut) {
                    INVALID(off, "global is immutable");
                    goto invalid;
                }
                if (!pop_expect(v, g->type, off)) goto invalid;
                SINK(h0);
            } else {
                SINK(h0);
                if (!push(v, g->type)) goto invalid;
            }
            break;
        }
        /* -- tables (3.3.6) -- */
        case OP_table_get:
        case OP_table_set:
        case OP_table_grow:
        case OP_table_fill: {
            if (!check_table(v, in.u.index, off)) goto invalid;
            valtype et = m->tables[in.u.index].elem;
            bool ok;
            if (in.op == OP_table_get) ok = pop_expect(v, K23VM_I32, off);
            else if (in.op == OP_table_set) ok = pop_expect(v, et, off) && pop_expect(v, K23VM_I32, off);
            else if (in.op == OP_table_grow) ok = pop_expect(v, K23VM_I32, off) && pop_expect(v, et, off);
            else ok = pop_expect(v, K23VM_I32, off) && pop_expect(v, et, off) && pop_expect(v, K23VM_I32, off);
            if (!ok) goto invalid;
            SINK(h0);
            if (in.op == OP_table_get && !push(v, et)) goto invalid;
            if (in.op == OP_table_grow && !push(v, K23VM_I32)) goto invalid;
            break;
        }
        /* -- references (3.3.2) -- */
        case OP_ref_null:
            SINK(h0);
            if (!push(v, in.u.reftype)) goto invalid;
            break;
        case OP_ref_is_null: {
            valtype t;
            if (!pop_any(v, &t, off)) goto invalid;
            if (t != VT_UNKNOWN && !valtype_is_ref(t)) {
                mismatch(v, off);
                goto invalid;
            }
            SINK(h0);
            if (!push(v, K23VM_I32)) goto invalid;
            break;
        }
        case OP_ref_func:
            if (in.u.index >= m->nfuncs) {
                INVALID(off, "unknown function %u", in.u.index);
                goto invalid;
            }
            /* C.refs (3.4.10): only functions named outside of function bodies. */
            if (!m->declared_refs || !(m->declared_refs[in.u.index >> 3] & (1u << (in.u.index & 7)))) {
                INVALID(off, "undeclared function reference");
                goto invalid;
            }
            SINK(h0);
            if (!push(v, K23VM_FUNCREF)) goto invalid;
            break;
        default:
            /* Every SIG_special opcode is handled above. */
            INVALID(off, "illegal opcode");
            goto invalid;
        }
    }

invalid:
    /* Stop typing; apply the failing instruction's nesting and read the rest for malformed
     * errors, which win (see the head of this file). */
    if (!v->err || k23vm_error_kind_of(v->err) != K23VM_ERROR_INVALID) return v->err;
    {
        k23vm_error *inv = v->err;
        v->err = NULL;
        if (structural(v, &in, &r, &done) && !done) skim(v, &r);
        if (v->err) {
            k23vm_error_delete(inv);
            return v->err;
        }
        return v->err = inv;
    }
sink_failed:
    return v->err;
}

k23vm_error *validate_func(const k23vm_module *m, uint32_t defidx, const val_sink *sink)
{
    vctx v;
    vctx_init(&v, m);
    v.sink = sink;
    k23vm_error *e = func_body(&v, defidx, true);
    vctx_free(&v);
    return e;
}

/* ---- constant expressions (3.3.10) ------------------------------------------------------------- */

/* In 2.0 every constant expression of a module (global initialisers, element and data offsets,
 * element items) is typed under C' (3.4.10), whose globals are only the imported ones; a
 * global.get must name one of those, immutable. */
static bool const_expr(vctx *v, const constexpr *e, valtype expected)
{
    const k23vm_module *m = v->m;
    reader r;
    rd_init(&r, m->bytes, m->size);
    r.p = m->bytes + e->start;
    r.end = m->bytes + e->end;
    uint32_t n = 0;
    valtype t = 0;
    const char *late = NULL; /* a typing error, reported after the constant-ness of every insn */
    uint32_t late_arg = 0;
    size_t late_off = e->start;
    insn in;
    for (;;) {
        if (!insn_read(&r, &in)) return read_failed(v, &r);
        size_t off = in.offset;
        switch (in.op) {
        case OP_end:
            if (late) return INVALID(late_off, late, late_arg);
            if (n != 1 || t != expected) return mismatch(v, off);
            return true;
        case OP_global_get:
            if (in.u.index >= m->nglobal_imports) return INVALID(off, "unknown global %u", in.u.index);
            if (m->globaltypes[in.u.index].mut) return INVALID(off, "constant expression required");
            t = m->globaltypes[in.u.index].type;
            break;
        case OP_ref_func:
            if (in.u.index >= m->nfuncs && !late) {
                late = "unknown function %u";
                late_arg = in.u.index;
                late_off = off;
            }
            t = K23VM_FUNCREF;
            break;
        case OP_ref_null:
            t = in.u.reftype;
            break;
        default: {
            /* t.const: the opcodes whose fixed signature only pushes. */
            const opinfo *oi = &op_info[in.op];
            const siginfo *s = &sig_info[oi->sig];
            bool is_const = oi->sig != SIG_special && s->nparams == 0 && s->result &&
                            (oi->imm == IMM_i32 || oi->imm == IMM_i64 || oi->imm == IMM_f32 ||
                             oi->imm == IMM_f64 || oi->imm == IMM_v128);
            if (!is_const) return INVALID(off, "constant expression required");
            t = s->result;
            break;
        }
        }
        n++;
    }
}

k23vm_error *validate_const_expr(const k23vm_module *m, const constexpr *e, valtype expected)
{
    vctx v;
    vctx_init(&v, m);
    const_expr(&v, e, expected);
    return v.err;
}

/* ---- module (3.4) ------------------------------------------------------------------------------ */

/* Limits (3.2.1, 3.4.2, 3.4.3): within range k, min <= max. */
static bool check_limits(vctx *v, const limits *l, uint64_t k, const char *range_msg, size_t off)
{
    if (l->min > k || (l->has_max && l->max > k)) return INVALID(off, "%s", range_msg);
    if (l->has_max && l->min > l->max) return INVALID(off, "size minimum must not be greater than maximum");
    return true;
}

#define MEM_RANGE_MSG "memory size must be at most 65536 pages (4GiB)"
#define TABLE_RANGE_MSG "table size must be at most 2^32-1"

static void set_ref(uint8_t *refs, uint32_t nfuncs, uint32_t x)
{
    if (x < nfuncs) refs[x >> 3] |= (uint8_t)(1u << (x & 7));
}

/* Adds the ref.func operands of a constant expression to C.refs. Read errors are left to
 * const_expr, which reads it again. */
static void refs_of_expr(const k23vm_module *m, uint8_t *refs, const constexpr *e)
{
    reader r;
    rd_init(&r, m->bytes, m->size);
    r.p = m->bytes + e->start;
    r.end = m->bytes + e->end;
    insn in;
    while (r.p < r.end && insn_read(&r, &in) && in.op != OP_end)
        if (in.op == OP_ref_func) set_ref(refs, m->nfuncs, in.u.index);
}

/* C.refs (3.4.10): the functions named anywhere in the module except function bodies and the
 * start function: element segments, global initialisers and exports. */
static bool compute_refs(vctx *v, k23vm_module *m)
{
    size_t bytes = ((size_t)m->nfuncs + 7) / 8;
    uint8_t *refs = arena_zalloc(&m->arena, bytes ? bytes : 1);
    if (!refs) return oom(v);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const elemseg *s = &m->elems[i];
        for (uint32_t j = 0; j < s->count; j++) {
            if (s->funcs) set_ref(refs, m->nfuncs, s->funcs[j]);
            else if (s->exprs) refs_of_expr(m, refs, &s->exprs[j]);
        }
    }
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++) refs_of_expr(m, refs, &m->globals[i].init);
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == K23VM_EXTERN_FUNC) set_ref(refs, m->nfuncs, m->exports[i].index);
    m->declared_refs = refs;
    return true;
}

static uint32_t name_hash(const wname *n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < n->len; i++) h = (h ^ (uint8_t)n->ptr[i]) * 16777619u;
    return h;
}

/* Export names must be unique (3.4.10). An open-addressing set of export indices. */
static bool check_export_names(vctx *v, const k23vm_module *m)
{
    if (m->nexports < 2) return true;
    uint32_t cap = 4;
    while (cap < 2 * (uint64_t)m->nexports) cap *= 2;
    uint32_t *slot = mem_alloc(v->plat, (size_t)cap * sizeof *slot);
    if (!slot) return oom(v);
    memset(slot, 0xFF, (size_t)cap * sizeof *slot);
    bool ok = true;
    for (uint32_t i = 0; i < m->nexports && ok; i++) {
        const wname *n = &m->exports[i].name;
        for (uint32_t k = name_hash(n) & (cap - 1);; k = (k + 1) & (cap - 1)) {
            if (slot[k] == UINT32_MAX) {
                slot[k] = i;
                break;
            }
            const wname *o = &m->exports[slot[k]].name;
            if (o->len == n->len && memcmp(o->ptr, n->ptr, n->len) == 0) {
                ok = INVALID(K23VM_NO_OFFSET, "duplicate export name");
                break;
            }
        }
    }
    mem_free(v->plat, slot, (size_t)cap * sizeof *slot);
    return ok;
}

/* Everything of 3.4 except function bodies; stops at the first error. */
static bool module_rules(vctx *v, k23vm_module *m)
{
    const size_t no = K23VM_NO_OFFSET;
    if (!compute_refs(v, m)) return false;

    for (uint32_t i = 0; i < m->nimports; i++) {
        const import *im = &m->imports[i];
        if (im->kind == K23VM_EXTERN_FUNC && im->u.typeidx >= m->ntypes)
            return INVALID(no, "unknown type %u", im->u.typeidx);
        if (im->kind == K23VM_EXTERN_TABLE && !check_limits(v, &im->u.table.lim, UINT32_MAX, TABLE_RANGE_MSG, no))
            return false;
        if (im->kind == K23VM_EXTERN_MEMORY && !check_limits(v, &im->u.mem.lim, 65536, MEM_RANGE_MSG, no))
            return false;
    }
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
        if (m->funcs[i].typeidx >= m->ntypes) return INVALID(no, "unknown type %u", m->funcs[i].typeidx);
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
        if (!check_limits(v, &m->tables[i].lim, UINT32_MAX, TABLE_RANGE_MSG, no)) return false;
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
        if (!check_limits(v, &m->mems[i].lim, 65536, MEM_RANGE_MSG, no)) return false;
    if (m->nmems > 1) return INVALID(no, "multiple memories");

    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++)
        if (!const_expr(v, &m->globals[i].init, m->globals[i].type.type)) return false;

    for (uint32_t i = 0; i < m->nelems; i++) {
        const elemseg *s = &m->elems[i];
        for (uint32_t j = 0; j < s->count; j++) {
            if (s->funcs && s->funcs[j] >= m->nfuncs) return INVALID(no, "unknown function %u", s->funcs[j]);
            if (s->exprs && !const_expr(v, &s->exprs[j], s->type)) return false;
        }
        if (s->mode == SEG_ACTIVE) {
            if (s->table >= m->ntables) return INVALID(s->offset.start, "unknown table %u", s->table);
            if (m->tables[s->table].elem != s->type) return mismatch(v, s->offset.start);
            if (!const_expr(v, &s->offset, K23VM_I32)) return false;
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const dataseg *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE) continue;
        if (d->mem >= m->nmems) return INVALID(d->offset.start, "unknown memory %u", d->mem);
        if (!const_expr(v, &d->offset, K23VM_I32)) return false;
    }

    if (m->has_start) {
        if (m->start >= m->nfuncs) return INVALID(no, "unknown function %u", m->start);
        const functype *st = module_functype(m, m->start);
        if (st->nparams || st->nresults) return INVALID(no, "start function");
    }

    static const char *const unknown_msg[] = {
        [K23VM_EXTERN_FUNC] = "unknown function %u",
        [K23VM_EXTERN_TABLE] = "unknown table %u",
        [K23VM_EXTERN_MEMORY] = "unknown memory %u",
        [K23VM_EXTERN_GLOBAL] = "unknown global %u",
    };
    for (uint32_t i = 0; i < m->nexports; i++) {
        const export *ex = &m->exports[i];
        uint32_t count = ex->kind == K23VM_EXTERN_FUNC     ? m->nfuncs
                         : ex->kind == K23VM_EXTERN_TABLE  ? m->ntables
                         : ex->kind == K23VM_EXTERN_MEMORY ? m->nmems
                                                           : m->nglobals;
        if (ex->kind > K23VM_EXTERN_GLOBAL) return INVALID(no, "malformed export kind");
        if (ex->index >= count) return INVALID(no, unknown_msg[ex->kind], ex->index);
    }
    return check_export_names(v, m);
}

k23vm_error *validate_module(k23vm_module *m)
{
    vctx v;
    vctx_init(&v, m);
    module_rules(&v, m);
    k23vm_error *err = v.err;
    if (err && k23vm_error_kind_of(err) != K23VM_ERROR_INVALID) {
        vctx_free(&v);
        return err;
    }
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) {
        k23vm_error *e = func_body(&v, i, err == NULL);
        if (!e) {
            if (!err) {
                m->funcs[i].max_height = v.max_h;
                m->funcs[i].max_depth = v.max_d;
            }
            continue;
        }
        if (k23vm_error_kind_of(e) == K23VM_ERROR_INVALID) {
            if (!err) err = e;
            else k23vm_error_delete(e);
            continue;
        }
        /* Malformed (or out of memory): final, and it wins over an invalid error found before. */
        k23vm_error_delete(err);
        err = e;
        break;
    }
    vctx_free(&v);
    return err;
}
