/* decode.c - the binary format (spec 5): module bytes to a struct k23vm_module (module.h).
 *
 * The first stage of the pipeline (ARCHITECTURE.md 1). It checks everything the binary format
 * says, fills every field of the module except validation's outputs, and leaves function bodies as
 * byte ranges: their instructions are read once, by validation (validate.h), through insn_read().
 * Constant expressions are walked with insn_read() here only to find where they end.
 *
 * Error messages: the spec tests compare them, by prefix, with those of the reference interpreter
 * (spec/interpreter/binary/decode.ml), so this decoder reads the way that one does:
 *  - A section is read with a reader bounded by the module, not by the section; its declared size
 *    is compared with what was read afterwards ("section size mismatch"). Reading on past a
 *    section's end is therefore harmless (the module bound still holds) and gives the same error
 *    the tests expect, e.g. a constant expression without its `end` runs into the next section's
 *    id ("illegal opcode").
 *  - Lengths are checked as len32 does (reader.h): "length out of bounds" when a length exceeds
 *    what is left of the module, counted from the length's first byte.
 *  - The module-level consistency checks (function vs code count, data count) come after the last
 *    section, in the reference interpreter's order.
 *  - A section whose id is known but out of order ends the module: what follows is "unexpected
 *    content after last section".
 *
 * Hostile sizes: a vector length is at most the bytes left (len32), and arrays for a vector are
 * allocated for no more elements than the bytes left could hold at the element's minimum encoded
 * size (vec_cap), so no allocation is larger than a small multiple of the module's own size.
 *
 * Speed: the code section is the bulk of a module and costs a few LEB reads per function (body
 * size and local declarations); bodies themselves are not looked at here, except for their last
 * byte, which must be the final `end` (only a body that fails this is walked, see body_bad_size).
 * On a 14 MB module decoding takes a few milliseconds, about 2% of decode + validate.
 */
#include "decode.h"

#include "error.h"
#include "insn.h"
#include "reader.h"

/* ---- decoder state ----------------------------------------------------------------------------- */

/* Section ids (5.5.2). */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEM = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATACOUNT = 12,
    SEC_COUNT_
};

typedef struct dec {
    k23vm_module *m;
    reader r;            /* over the whole module */
    size_t sec_start;    /* offset of the current section's contents */
    size_t sec_end;      /* ... and of its end as declared (may lie past the module's end) */
    bool oom;            /* an allocation failed: K23VM_ERROR_RESOURCE, not malformed */
    const char *limit;   /* first implementation limit exceeded (K23VM_ERROR_RESOURCE) ... */
    size_t limit_off;    /* ... and where; decoding goes on so that malformed input still says so */

    bool has_codesec, has_names;
    uint32_t nfunc_decl; /* entries of the function section */
    uint32_t ncode;      /* entries of the code section */
    size_t code_off;     /* where the code section starts, for error offsets */
} dec;

/* Arena memory for n elements of the given size; NULL (not an error) for n == 0. */
static void *dec_alloc(dec *d, size_t n, size_t size, bool zero)
{
    size_t bytes;
    if (n == 0) return NULL;
    if (!size_mul(n, size, &bytes)) {
        d->oom = true;
        return NULL;
    }
    void *p = zero ? arena_zalloc(&d->m->arena, bytes) : arena_alloc(&d->m->arena, bytes);
    if (!p) d->oom = true;
    return p;
}

/* How many elements to allocate for a vector of n whose elements take at least min_size bytes:
 * no more than could be read successfully from what is left, plus the one being read when the
 * input runs out (see the file comment). */
static uint32_t vec_cap(const dec *d, uint32_t n, size_t min_size)
{
    size_t fit = rd_left(&d->r) / min_size + 1;
    return (size_t)n < fit ? n : (uint32_t)fit;
}

K23VM_INLINE size_t dec_pos(const dec *d) { return rd_offset(&d->r, d->r.p); }

K23VM_INLINE bool dec_fail(dec *d, size_t off, const char *msg)
{
    return rd_fail_at(&d->r, d->r.base + off, msg);
}

/* Implementation limits (spec appendix A.1 allows them). They keep the validator's and the tiers'
 * work linear in the module's size: a br to a label of n results costs O(n), a frame of n locals
 * costs O(n) to enter. The figures are those common engines use, so a module that runs elsewhere
 * runs here. */
enum { LIMIT_PARAMS = 1000, LIMIT_RESULTS = 1000, LIMIT_LOCALS = 50000 };

static void dec_limit(dec *d, const uint8_t *at, const char *what)
{
    if (d->limit) return;
    d->limit = what;
    d->limit_off = rd_offset(&d->r, at);
}

/* ---- types (5.3) ------------------------------------------------------------------------------- */

/* Value types by their one-byte encoding (5.3.1-5.3.3); 0 marks a byte that is none. */
static const uint8_t valtype_of[256] = {
    [K23VM_I32] = K23VM_I32,         [K23VM_I64] = K23VM_I64,
    [K23VM_F32] = K23VM_F32,         [K23VM_F64] = K23VM_F64,
    [K23VM_V128] = K23VM_V128,       [K23VM_FUNCREF] = K23VM_FUNCREF,
    [K23VM_EXTERNREF] = K23VM_EXTERNREF,
};

/* The reference interpreter reads a type byte as a signed LEB128 of 7 bits, so a byte with the
 * continuation bit set is "integer representation too long"; otherwise the byte's range decides
 * which of its type readers complained. */
static const char *bad_type_msg(uint8_t b, bool ref_only)
{
    if (b & 0x80) return "integer representation too long";
    if (!ref_only && b > K23VM_FUNCREF) return "malformed value type";
    return "malformed reference type";
}

static bool rd_valtype(reader *r, valtype *out)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    if (!rd_u8(r, &b)) return false;
    if (K23VM_UNLIKELY(!valtype_of[b])) return rd_fail_at(r, at, bad_type_msg(b, false));
    *out = b;
    return true;
}

static bool rd_reftype(reader *r, valtype *out)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    if (!rd_u8(r, &b)) return false;
    if (b != K23VM_FUNCREF && b != K23VM_EXTERNREF) return rd_fail_at(r, at, bad_type_msg(b, true));
    *out = b;
    return true;
}

/* limits (5.3.7). The flag is a one-bit LEB128 to the reference interpreter (vu1): a value above 1
 * is "integer too large", a continuation bit "integer representation too long". */
static bool rd_limits(reader *r, limits *out)
{
    const uint8_t *at = r->p;
    uint8_t flags = 0;
    uint32_t min = 0, max = 0;
    if (!rd_u8(r, &flags)) return false;
    if ((flags & 0x7F) > 1) return rd_fail_at(r, at, "integer too large");
    if (flags & 0x80) return rd_fail_at(r, at, "integer representation too long");
    if (!rd_u32(r, &min)) return false;
    if (flags && !rd_u32(r, &max)) return false;
    out->min = min;
    out->max = max;
    out->has_max = flags != 0;
    return true;
}

static bool rd_tabletype(reader *r, tabletype *out)
{
    return rd_reftype(r, &out->elem) && rd_limits(r, &out->lim);
}

/* globaltype (5.3.10): the mutability is a byte, 0 or 1. */
static bool rd_globaltype(reader *r, globaltype *out)
{
    if (!rd_valtype(r, &out->type)) return false;
    const uint8_t *at = r->p;
    uint8_t mut = 0;
    if (!rd_u8(r, &mut)) return false;
    if (mut > 1) return rd_fail_at(r, at, "malformed mutability");
    out->mut = mut != 0;
    return true;
}

/* ---- constant expressions (5.4.9, 3.3.10) ------------------------------------------------------ */

/* Walks the instructions of an expression (5.4.9) from the reader's position up to the `end`
 * that closes it. Only their encoding matters here, so nested blocks are followed even where they
 * make the expression invalid (in a constant expression), not malformed. An `else` outside any
 * block ends the instruction sequence without its `end`, which the reference interpreter reports
 * as "END opcode expected". */
static bool skip_expr(reader *r)
{
    uint64_t depth = 0;
    insn in;
    for (;;) {
        if (!insn_read(r, &in)) return false;
        switch ((opcode)in.op) {
        case OP_block:
        case OP_loop:
        case OP_if: depth++; break;
        case OP_else:
            if (depth == 0) return rd_fail_at(r, r->base + in.offset, "END opcode expected");
            break;
        case OP_end:
            if (depth == 0) return true;
            depth--;
            break;
        default: break;
        }
    }
}

/* A constant expression (3.3.10): its extent; validation types it later. */
static bool rd_constexpr(dec *d, constexpr *out)
{
    size_t start = dec_pos(d);
    if (!skip_expr(&d->r)) return false;
    out->start = (uint32_t)start;
    out->end = (uint32_t)dec_pos(d);
    return true;
}

/* ---- index spaces ------------------------------------------------------------------------------ */

/* The index spaces (2.5.1) start with the imports. The sections that define tables, memories,
 * globals and functions all come after the import section, so each builds its index space in one
 * array when it is read; finish() builds those whose section is absent. */
static bool space_funcs(dec *d, uint32_t ndef)
{
    k23vm_module *m = d->m;
    m->nfuncs = m->nfunc_imports + ndef;
    m->func_typeidx = dec_alloc(d, m->nfuncs, sizeof *m->func_typeidx, false);
    if (d->oom) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == K23VM_EXTERN_FUNC) m->func_typeidx[k++] = m->imports[i].u.typeidx;
    return true;
}

static bool space_tables(dec *d, uint32_t ndef)
{
    k23vm_module *m = d->m;
    m->ntables = m->ntable_imports + ndef;
    m->tables = dec_alloc(d, m->ntables, sizeof *m->tables, false);
    if (d->oom) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == K23VM_EXTERN_TABLE) m->tables[k++] = m->imports[i].u.table;
    return true;
}

static bool space_mems(dec *d, uint32_t ndef)
{
    k23vm_module *m = d->m;
    m->nmems = m->nmem_imports + ndef;
    m->mems = dec_alloc(d, m->nmems, sizeof *m->mems, false);
    if (d->oom) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == K23VM_EXTERN_MEMORY) m->mems[k++] = m->imports[i].u.mem;
    return true;
}

static bool space_globals(dec *d, uint32_t ndef)
{
    k23vm_module *m = d->m;
    m->nglobals = m->nglobal_imports + ndef;
    m->globaltypes = dec_alloc(d, m->nglobals, sizeof *m->globaltypes, false);
    if (d->oom) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == K23VM_EXTERN_GLOBAL) m->globaltypes[k++] = m->imports[i].u.global;
    return true;
}

/* ---- type section (5.5.4) ---------------------------------------------------------------------- */

/* A functype's value types are single bytes in the module (5.3.1), so params and results point
 * into the module's bytes once checked: nothing is allocated per type. */
static bool rd_resulttype(reader *r, uint32_t *n, const valtype **types)
{
    if (!rd_vec_len(r, 0, n)) return false;
    *types = r->p;
    for (uint32_t i = 0; i < *n; i++) {
        valtype t;
        if (!rd_valtype(r, &t)) return false;
    }
    return true;
}

static bool sec_type(dec *d)
{
    reader *r = &d->r;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    functype *types = dec_alloc(d, vec_cap(d, n, 3), sizeof *types, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        uint8_t form = 0;
        if (!rd_u8(r, &form)) return false;
        /* 0x60 is -0x20 as a 7-bit signed LEB128 to the reference interpreter. */
        if (form & 0x80) return rd_fail_at(r, at, "integer representation too long");
        if (form != 0x60) return rd_fail_at(r, at, "malformed function type");
        functype *ft = &types[i];
        if (!rd_resulttype(r, &ft->nparams, &ft->params)) return false;
        if (!rd_resulttype(r, &ft->nresults, &ft->results)) return false;
        if (ft->nparams > LIMIT_PARAMS) dec_limit(d, at, "more than 1000 parameters in a function type");
        if (ft->nresults > LIMIT_RESULTS) dec_limit(d, at, "more than 1000 results in a function type");
    }
    d->m->types = types;
    d->m->ntypes = n;
    return true;
}

/* ---- import section (5.5.5) -------------------------------------------------------------------- */

static bool sec_import(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    /* Smallest import: two empty names, a kind and a one-byte descriptor. */
    import *imps = dec_alloc(d, vec_cap(d, n, 4), sizeof *imps, true);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        import *im = &imps[i];
        if (!rd_name(r, &im->module.ptr, &im->module.len)) return false;
        if (!rd_name(r, &im->field.ptr, &im->field.len)) return false;
        const uint8_t *at = r->p;
        uint8_t kind = 0;
        if (!rd_u8(r, &kind)) return false;
        im->kind = kind;
        switch (kind) {
        case K23VM_EXTERN_FUNC:
            if (!rd_u32(r, &im->u.typeidx)) return false;
            m->nfunc_imports++;
            break;
        case K23VM_EXTERN_TABLE:
            if (!rd_tabletype(r, &im->u.table)) return false;
            m->ntable_imports++;
            break;
        case K23VM_EXTERN_MEMORY:
            if (!rd_limits(r, &im->u.mem.lim)) return false;
            m->nmem_imports++;
            break;
        case K23VM_EXTERN_GLOBAL:
            if (!rd_globaltype(r, &im->u.global)) return false;
            m->nglobal_imports++;
            break;
        default:
            return rd_fail_at(r, at, "malformed import kind");
        }
    }
    m->imports = imps;
    m->nimports = n;
    return true;
}

/* ---- function, table, memory and global sections (5.5.6-5.5.9) --------------------------------- */

static bool sec_function(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    uint32_t cap = vec_cap(d, n, 1);
    if (!space_funcs(d, cap)) return false;
    m->funcs = dec_alloc(d, cap, sizeof *m->funcs, true);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = 0;
        if (!rd_u32(r, &t)) return false;
        m->func_typeidx[m->nfunc_imports + i] = t;
        m->funcs[i].typeidx = t;
    }
    m->nfuncs = m->nfunc_imports + n;
    d->nfunc_decl = n;
    return true;
}

static bool sec_table(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    if (!space_tables(d, vec_cap(d, n, 3))) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_tabletype(r, &m->tables[m->ntable_imports + i])) return false;
    m->ntables = m->ntable_imports + n;
    return true;
}

static bool sec_memory(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    if (!space_mems(d, vec_cap(d, n, 2))) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_limits(r, &m->mems[m->nmem_imports + i].lim)) return false;
    m->nmems = m->nmem_imports + n;
    return true;
}

static bool sec_global(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    /* Smallest global: type, mutability and an expression that is just `end` (malformed-free,
     * though invalid). */
    uint32_t cap = vec_cap(d, n, 3);
    if (!space_globals(d, cap)) return false;
    m->globals = dec_alloc(d, cap, sizeof *m->globals, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        global *g = &m->globals[i];
        if (!rd_globaltype(r, &g->type)) return false;
        if (!rd_constexpr(d, &g->init)) return false;
        m->globaltypes[m->nglobal_imports + i] = g->type;
    }
    m->nglobals = m->nglobal_imports + n;
    return true;
}

/* ---- export and start sections (5.5.10, 5.5.11) ------------------------------------------------- */

static bool sec_export(dec *d)
{
    reader *r = &d->r;
    k23vm_module *m = d->m;
    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    export *exps = dec_alloc(d, vec_cap(d, n, 3), sizeof *exps, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        export *ex = &exps[i];
        if (!rd_name(r, &ex->name.ptr, &ex->name.len)) return false;
        const uint8_t *at = r->p;
        uint8_t kind = 0;
        if (!rd_u8(r, &kind)) return false;
        if (kind > K23VM_EXTERN_GLOBAL) return rd_fail_at(r, at, "malformed export kind");
        ex->kind = kind;
        if (!rd_u32(r, &ex->index)) return false;
    }
    m->exports = exps;
    m->nexports = n;
    return true;
}

static bool sec_start(dec *d)
{
    if (!rd_u32(&d->r, &d->m->start)) return false;
    d->m->has_start = true;
    return true;
}

/* ---- element section (5.5.12) ------------------------------------------------------------------ */

/* The eight encodings of an element segment, by their flags (a u32): bit 0 passive or
 * declarative, bit 1 an explicit table index (active) or declarative (otherwise), bit 2
 * expressions instead of function indices. */
enum { ELEM_PASSIVE_OR_DECL = 1, ELEM_TABLE_OR_DECL = 2, ELEM_EXPRS = 4 };

static bool rd_elemseg(dec *d, elemseg *es)
{
    reader *r = &d->r;
    const uint8_t *at = r->p;
    uint32_t flags = 0;
    if (!rd_u32(r, &flags)) return false;
    if (flags > 7) return rd_fail_at(r, at, "malformed elements segment kind");

    es->table = 0;
    es->type = K23VM_FUNCREF;
    es->offset.start = es->offset.end = 0;
    if (flags & ELEM_PASSIVE_OR_DECL) {
        es->mode = (flags & ELEM_TABLE_OR_DECL) ? SEG_DECLARATIVE : SEG_PASSIVE;
    } else {
        es->mode = SEG_ACTIVE;
        if ((flags & ELEM_TABLE_OR_DECL) && !rd_u32(r, &es->table)) return false;
        if (!rd_constexpr(d, &es->offset)) return false;
    }
    /* Flags 0 and 4 imply funcref; the others name it: an elemkind byte (only 0x00, funcref) for
     * function indices, a reference type for expressions. */
    bool typed = (flags & (ELEM_PASSIVE_OR_DECL | ELEM_TABLE_OR_DECL)) != 0;
    if (typed && (flags & ELEM_EXPRS)) {
        if (!rd_reftype(r, &es->type)) return false;
    } else if (typed) {
        const uint8_t *kat = r->p;
        uint8_t kind = 0;
        if (!rd_u8(r, &kind)) return false;
        if (kind != 0x00) return rd_fail_at(r, kat, "malformed element kind");
    }

    uint32_t n = 0;
    if (!rd_vec_len(r, 0, &n)) return false;
    es->count = n;
    es->funcs = NULL;
    es->exprs = NULL;
    if (flags & ELEM_EXPRS) {
        constexpr *exprs = dec_alloc(d, vec_cap(d, n, 1), sizeof *exprs, false);
        if (d->oom) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!rd_constexpr(d, &exprs[i])) return false;
        es->exprs = exprs;
    } else {
        uint32_t *funcs = dec_alloc(d, vec_cap(d, n, 1), sizeof *funcs, false);
        if (d->oom) return false;
        for (uint32_t i = 0; i < n; i++)
            if (!rd_u32(r, &funcs[i])) return false;
        es->funcs = funcs;
    }
    return true;
}

static bool sec_elem(dec *d)
{
    uint32_t n = 0;
    if (!rd_vec_len(&d->r, 0, &n)) return false;
    /* Smallest segment: flags, elemkind and an empty vector (flags 1 or 3). */
    elemseg *segs = dec_alloc(d, vec_cap(d, n, 3), sizeof *segs, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_elemseg(d, &segs[i])) return false;
    d->m->elems = segs;
    d->m->nelems = n;
    return true;
}

/* ---- data count section (5.5.16) --------------------------------------------------------------- */

static bool sec_datacount(dec *d)
{
    if (!rd_u32(&d->r, &d->m->datacount)) return false;
    d->m->has_datacount = true;
    return true;
}

/* ---- code section (5.5.13) --------------------------------------------------------------------- */

/* A body that cannot be well-formed as its size says: its size runs past the module's end, its
 * local declarations past the size, or its last byte is not 0x0B, the final `end`. The reference
 * interpreter reads a body's instructions without regard to its size and compares sizes only
 * afterwards, so what it reports depends on the instructions, in the body and after it; the spec
 * tests check several such cases (binary.wast, binary-leb128.wast). Reading them the same way,
 * bounded by the module, gives the same answer: an error in an instruction, the end of the module,
 * or an `end` in the wrong place ("section size mismatch": it cannot be at the body's end, or the
 * body would not be here). Only malformed bodies come here, so the cost is nil for good modules.
 * Always fails. */
static bool body_bad_size(dec *d, size_t body_off, size_t body_start)
{
    reader *r = &d->r;
    r->p = r->base + body_start;
    if (!skip_expr(r)) return false;
    return dec_fail(d, body_off, "section size mismatch");
}

/* One entry of the code section: size, local declarations, expression. The expression is left
 * as the range [body_start, body_end) for validation. */
static bool rd_code(dec *d, func *f)
{
    reader *r = &d->r;
    size_t body_off = dec_pos(d);
    uint32_t size = 0;
    if (!rd_vec_len(r, 0, &size)) return false;
    size_t end_off = dec_pos(d) + size;

    const uint8_t *locals_at = r->p;
    uint32_t nruns = 0;
    if (!rd_vec_len(r, 0, &nruns)) return false;
    localrun *runs = NULL;
    if (f && nruns) {
        runs = dec_alloc(d, vec_cap(d, nruns, 2), sizeof *runs, false);
        if (d->oom) return false;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < nruns; i++) {
        uint32_t count = 0;
        valtype t = 0;
        if (!rd_u32(r, &count) || !rd_valtype(r, &t)) return false;
        total += count;
        if (runs) runs[i] = (localrun){count, t};
    }
    /* 5.5.13: the total number of locals must fit a u32 (index space of locals). */
    if (total > UINT32_MAX) return rd_fail_at(r, locals_at, "too many locals");
    if (total > LIMIT_LOCALS) dec_limit(d, locals_at, "more than 50000 locals in a function");

    size_t body_start = dec_pos(d);
    if (end_off > (size_t)(r->end - r->base) || body_start >= end_off || r->base[end_off - 1] != 0x0B)
        return body_bad_size(d, body_off, body_start);

    if (f) {
        f->body_start = (uint32_t)body_start;
        f->body_end = (uint32_t)end_off;
        f->nruns = nruns;
        f->runs = runs;
        f->nlocals = (uint32_t)total;
    }
    r->p = r->base + end_off;
    return true;
}

static bool sec_code(dec *d)
{
    uint32_t n = 0;
    if (!rd_vec_len(&d->r, 0, &n)) return false;
    d->has_codesec = true;
    d->ncode = n;
    d->code_off = d->sec_start;
    for (uint32_t i = 0; i < n; i++) {
        /* With more bodies than functions, the extra ones are checked and dropped: the count
         * mismatch is reported after the last section, as the reference interpreter does. */
        func *f = i < d->nfunc_decl ? &d->m->funcs[i] : NULL;
        if (!rd_code(d, f)) return false;
    }
    return true;
}

/* ---- data section (5.5.14) --------------------------------------------------------------------- */

static bool rd_dataseg(dec *d, dataseg *ds)
{
    reader *r = &d->r;
    const uint8_t *at = r->p;
    uint32_t flags = 0;
    if (!rd_u32(r, &flags)) return false;
    ds->mem = 0;
    ds->offset.start = ds->offset.end = 0;
    switch (flags) {
    case 0: /* active, memory 0 */
        ds->mode = SEG_ACTIVE;
        if (!rd_constexpr(d, &ds->offset)) return false;
        break;
    case 1:
        ds->mode = SEG_PASSIVE;
        break;
    case 2: /* active, explicit memory */
        ds->mode = SEG_ACTIVE;
        if (!rd_u32(r, &ds->mem) || !rd_constexpr(d, &ds->offset)) return false;
        break;
    default:
        return rd_fail_at(r, at, "malformed data segment kind");
    }
    uint32_t len = 0;
    if (!rd_len(r, &len)) return false;
    ds->start = (uint32_t)dec_pos(d);
    ds->len = len;
    r->p += len;
    return true;
}

static bool sec_data(dec *d)
{
    uint32_t n = 0;
    if (!rd_vec_len(&d->r, 0, &n)) return false;
    /* Smallest segment: passive flags and an empty byte vector. */
    dataseg *segs = dec_alloc(d, vec_cap(d, n, 2), sizeof *segs, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++)
        if (!rd_dataseg(d, &segs[i])) return false;
    d->m->datas = segs;
    d->m->ndatas = n;
    return true;
}

/* ---- custom sections (5.5.3) and the name section (7.4) ----------------------------------------- */

/* The name section's three standard subsections (7.4.1); ids above 2 (from the extended-name-
 * section proposal) are skipped. Each may appear once, in increasing order of id. */
enum { NAMES_MODULE = 0, NAMES_FUNCTION = 1, NAMES_LOCAL = 2 };

/* namemap (7.4.1.2): vec(idx name) with strictly increasing indices. Reader failures mean a
 * broken name section; *oom tells an allocation failure apart. */
static bool rd_namemap(dec *d, reader *r, nameassoc **out, uint32_t *count)
{
    uint32_t n = 0;
    if (!rd_vec_len(r, 2, &n)) return false;
    nameassoc *v = dec_alloc(d, n, sizeof *v, false);
    if (d->oom) return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!rd_u32(r, &v[i].index)) return false;
        if (i > 0 && v[i].index <= v[i - 1].index) return rd_fail_at(r, at, "name map out of order");
        if (!rd_name(r, &v[i].name.ptr, &v[i].name.len)) return false;
    }
    *out = v;
    *count = n;
    return true;
}

/* Decodes the name section's contents from r (bounded by the section) into m. Any flaw makes the
 * whole section ignored (engines treat it as debug information, and the spec says a malformed
 * custom section must not make the module malformed, 7.4); only running out of memory is an error.
 * Nothing is stored in m until the whole section has been read. */
static bool names_decode(dec *d, reader *r)
{
    int last = -1;
    wname modname = {NULL, 0};
    bool has_modname = false;
    nameassoc *fnames = NULL;
    uint32_t nfnames = 0;
    localnames *lnames = NULL;
    uint32_t nlnames = 0;

    while (!rd_eof(r)) {
        uint8_t id = 0;
        uint32_t size = 0;
        if (!rd_u8(r, &id) || !rd_len(r, &size)) return false;
        if ((int)id <= last) return false;
        last = id;
        reader sub = rd_sub(r, size);
        r->p += size;
        switch (id) {
        case NAMES_MODULE:
            if (!rd_name(&sub, &modname.ptr, &modname.len)) return false;
            has_modname = true;
            break;
        case NAMES_FUNCTION:
            if (!rd_namemap(d, &sub, &fnames, &nfnames)) return false;
            break;
        case NAMES_LOCAL: {
            uint32_t n = 0;
            if (!rd_vec_len(&sub, 2, &n)) return false;
            lnames = dec_alloc(d, n, sizeof *lnames, false);
            if (d->oom) return false;
            for (uint32_t i = 0; i < n; i++) {
                localnames *ln = &lnames[i];
                nameassoc *v = NULL;
                if (!rd_u32(&sub, &ln->func)) return false;
                if (i > 0 && ln->func <= lnames[i - 1].func) return false;
                if (!rd_namemap(d, &sub, &v, &ln->count)) return false;
                ln->names = v;
            }
            nlnames = n;
            break;
        }
        default:
            sub.p = sub.end;
            break;
        }
        if (!rd_eof(&sub)) return false;
    }
    k23vm_module *m = d->m;
    m->module_name = modname;
    m->has_module_name = has_modname;
    m->func_names = fnames;
    m->nfunc_names = nfnames;
    m->local_names = lnames;
    m->nlocal_names = nlnames;
    return true;
}

static bool sec_custom(dec *d)
{
    reader *r = &d->r;
    const char *name = NULL;
    uint32_t len = 0;
    if (!rd_name(r, &name, &len)) return false;
    size_t at = dec_pos(d);
    /* The name must lie within the section; the reference interpreter skips "size minus what the
     * name took" bytes, which runs into the end when that is negative, as when the section itself
     * claims bytes past the module's end. */
    if (at > d->sec_end || d->sec_end > (size_t)(r->end - r->base))
        return dec_fail(d, (size_t)(r->end - r->base), "unexpected end of section or function");
    if (!d->has_names && len == 4 && memcmp(name, "name", 4) == 0) {
        /* Only the first name section counts (7.4.1 allows one). */
        d->has_names = true;
        reader sub = rd_sub(r, d->sec_end - at);
        names_decode(d, &sub);
        if (d->oom) return false;
    }
    r->p = r->base + d->sec_end;
    return true;
}

/* ---- module (5.5.15) --------------------------------------------------------------------------- */

typedef bool (*section_fn)(dec *d);

/* Per section id: its parser and its rank in the required order (5.5.2: the data count section,
 * id 12, sits between the element and code sections). Custom sections (rank 0) go anywhere. */
static const struct {
    section_fn parse;
    uint8_t rank;
} sections[SEC_COUNT_] = {
    [SEC_CUSTOM] = {sec_custom, 0},     [SEC_TYPE] = {sec_type, 1},     [SEC_IMPORT] = {sec_import, 2},
    [SEC_FUNCTION] = {sec_function, 3}, [SEC_TABLE] = {sec_table, 4},   [SEC_MEMORY] = {sec_memory, 5},
    [SEC_GLOBAL] = {sec_global, 6},     [SEC_EXPORT] = {sec_export, 7}, [SEC_START] = {sec_start, 8},
    [SEC_ELEM] = {sec_elem, 9},         [SEC_DATACOUNT] = {sec_datacount, 10},
    [SEC_CODE] = {sec_code, 11},        [SEC_DATA] = {sec_data, 12},
};

/* The index spaces of sections that are absent, and the consistency checks that the reference
 * interpreter makes after the last section. */
static bool finish(dec *d)
{
    k23vm_module *m = d->m;
    if (!m->func_typeidx && !space_funcs(d, 0)) return false;
    if (!m->tables && !space_tables(d, 0)) return false;
    if (!m->mems && !space_mems(d, 0)) return false;
    if (!m->globaltypes && !space_globals(d, 0)) return false;

    size_t end = (size_t)(d->r.end - d->r.base);
    if (d->nfunc_decl != d->ncode)
        return dec_fail(d, d->has_codesec ? d->code_off : end,
                        "function and code section have inconsistent lengths");
    if (m->has_datacount && m->datacount != m->ndatas)
        return dec_fail(d, end, "data count and data section have inconsistent lengths");
    return true;
}

static bool decode(dec *d)
{
    reader *r = &d->r;
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D}; /* "\0asm" */
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    /* 5.5.16: the preamble, read as two u32 words like the reference interpreter does: a module
     * too short for a word is "unexpected end", whatever its bytes. */
    size_t have = rd_left(r);
    if (have < 4) return dec_fail(d, have, "unexpected end");
    if (memcmp(r->p, magic, 4) != 0) return dec_fail(d, 0, "magic header not detected");
    if (have < 8) return dec_fail(d, have, "unexpected end");
    if (memcmp(r->p + 4, version, 4) != 0) return dec_fail(d, 4, "unknown binary version");
    r->p += 8;

    unsigned last_rank = 0;
    while (!rd_eof(r)) {
        const uint8_t *id_at = r->p;
        uint8_t id = *r->p++;
        if (id >= SEC_COUNT_) return rd_fail_at(r, id_at, "malformed section id");
        if (id != SEC_CUSTOM && sections[id].rank <= last_rank)
            return rd_fail_at(r, id_at, "unexpected content after last section");
        uint32_t size = 0;
        if (!rd_vec_len(r, 0, &size)) return false;
        d->sec_start = dec_pos(d);
        d->sec_end = d->sec_start + size;
        if (!sections[id].parse(d)) return false;
        if (dec_pos(d) != d->sec_end) return dec_fail(d, d->sec_start, "section size mismatch");
        if (id != SEC_CUSTOM) last_rank = sections[id].rank;
    }
    return finish(d);
}

k23vm_error *decode_module(k23vm_module *m)
{
    dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    /* An empty module may come without a buffer; the reader wants a pointer it can offset. */
    static const uint8_t nothing[1];
    rd_init(&d.r, m->bytes ? m->bytes : nothing, m->bytes ? m->size : 0);
    if (decode(&d)) {
        if (!d.limit) return NULL;
        return err_new(m->plat, K23VM_ERROR_RESOURCE, d.limit_off, "implementation limit: %s", d.limit);
    }
    if (d.oom) return err_oom();
    const char *msg = d.r.err ? d.r.err : "malformed module";
    return err_new(m->plat, K23VM_ERROR_MALFORMED, d.r.err_off, "%s", msg);
}
