/* translate.c - the interpreter's translator: a validator sink (validate.h) that turns one
 * validated function body into internal code (code.h), lazily on the function's first call, and
 * the per-module cache that publishes the result (interp_code).
 *
 * Register machine over frame slots. Every position of the wasm operand stack has a fixed home
 * slot in the frame, but a stack entry need not be in its home yet: the translator keeps a model
 * of the stack whose entries are
 *     TV_SLOT   the value is in the entry's home slot,
 *     TV_LOCAL  the value is local x (local.get folded: instructions read the local's slot),
 *     TV_CONST  a constant (folded into immediate forms, or materialised when needed).
 * So `local.get a; local.get b; i32.add; local.set c` becomes one instruction `add c, a, b`: the
 * operands are read where they live and a result followed by local.set/tee is written straight to
 * the local (the last instruction's destination is patched). Folding a local.get is only sound
 * while the local keeps its value: local.set/tee x first copies every pending entry that refers
 * to x into its home, and every block entry copies them all (the block's code may run on some
 * paths only, so a copy made inside it could not be relied on after it).
 *
 * Control flow is resolved here: forward branches are chained per block and patched at its end,
 * loops branch back to a known position, br_table becomes a jump table, and values carried by a
 * branch are moved to the target's homes on the taken path only. Compare + br_if/if fuse into one
 * compare-and-branch instruction; binary operations with a constant right operand use immediate
 * forms. Code after unreachable, br, br_table and return is dropped until the enclosing block's
 * end or else, as is code after a block whose end nothing reaches.
 *
 * Invariant used throughout: code inside a block never changes the stack entries below the
 * block's height, so at else/end those entries are as they were at the block's entry.
 */
#include "interp.h"

#include "../error.h"
#include "../validate.h"
#include "code.h"

const uint8_t interp_nopnd[IOP_COUNT_] = {
#define OP(name, prefix, code, text, imm, sig, aux) [IOP_##name] = NOPND_##name,
#include "../opcodes.def"
#define IOP(name, n) [IOP_##name] = n,
#define IOP_RI(t, op) [IOP_##t##_##op##_ri] = 3,
#define FIMM(op, mirror) [IOP_f64_##op##_ri] = 4,
#define FIMM_IR(op) [IOP_f64_##op##_ir] = 4,
#define FMEM(op, left) [IOP_f64_##op##_m] = 5,
#define FMEM_ML(op) [IOP_f64_##op##_ml] = 5,
#define ACC2(t, op) [IOP_##t##_##op##_a1] = 3, [IOP_##t##_##op##_a2] = 3,
#define ACC_RI(t, op) [IOP_##t##_##op##_ri_a] = 3,
#define ACC_BR(t, op)                                                                           \
    [IOP_br_##t##_##op##_a1] = 3, [IOP_br_##t##_##op##_a2] = 3, [IOP_br_##t##_##op##_ri_a] = 3,    \
    [IOP_br_##t##_##op##_a1_b] = 3, [IOP_br_##t##_##op##_a2_b] = 3, [IOP_br_##t##_##op##_ri_a_b] = 3,
#define ACC_LD(name) [IOP_##name##_a] = NOPND_##name,
#define ACC_ST(name) [IOP_##name##_v] = NOPND_##name,
#define ACCF2(op) [IOP_f64_##op##_a1] = 3, [IOP_f64_##op##_a2] = 3,
#define ACCF1(form) [IOP_f64_##form##_a] = NOPND_f64_##form,
#define ACC1(name) [IOP_##name##_a] = NOPND_##name,
#define SHOP(op, sh) [IOP_i32_##op##_##sh] = 4, [IOP_i32_##op##_##sh##_a] = 4,
#define FRMW(op, form) [IOP_f64_##form##_st] = 5, [IOP_f64_##form##_st_a] = 5,
#define BRCMP(t, op, inv, swp) \
    [IOP_br_##t##_##op] = 3, [IOP_br_##t##_##op##_ri] = 3, [IOP_br_##t##_##op##_b] = 3, [IOP_br_##t##_##op##_ri_b] = 3,
#include "iops.def"
};

/* Immediate forms of binary operations; 0: none. */
static const uint16_t ri_form[OP_COUNT_] = {
#define IOP_RI(t, op) [OP_##t##_##op] = IOP_##t##_##op##_ri,
#include "iops.def"
};

/* f64 with an immediate (right; left) and with a loaded operand (right; left). */
static const uint16_t fimm_form[OP_COUNT_] = {
#define FIMM(op, mirror) [OP_f64_##op] = IOP_f64_##op##_ri,
#include "iops.def"
};
static const uint16_t fimm_left[OP_COUNT_] = {
#define FIMM(op, mirror) [OP_f64_##op] = IOP_f64_##mirror,
#include "iops.def"
};
static const uint16_t fmem_form[OP_COUNT_] = {
#define FMEM(op, left) [OP_f64_##op] = IOP_f64_##op##_m,
#include "iops.def"
    [OP_i32_add] = IOP_i32_add_m,
};
static const uint16_t fmem_left[OP_COUNT_] = {
#define FMEM(op, left) [OP_f64_##op] = IOP_f64_##op##_##left,
#include "iops.def"
    [OP_i32_add] = IOP_i32_add_m,
};

/* f64 forms with a loaded operand, by form: the form that also stores the result back. */
static const uint16_t rmw_form[IOP_COUNT_] = {
#define FRMW(op, form) [IOP_f64_##form] = IOP_f64_##form##_st, [IOP_f64_##form##_a] = IOP_f64_##form##_st_a,
#include "iops.def"
};

/* Binary operations with a shifted operand: shop_form[op][shift index] (shift_index below). */
enum { SH_SHL, SH_SHR_U, SH_SHR_S, SH_ROTL, SH_COUNT_ };
static int shift_index(uint16_t op)
{
    switch (op) {
    case OP_i32_shl: return SH_SHL;
    case OP_i32_shr_u: return SH_SHR_U;
    case OP_i32_shr_s: return SH_SHR_S;
    case OP_i32_rotl: return SH_ROTL;
    default: return -1;
    }
}
#define SHIDX_shl SH_SHL
#define SHIDX_shr_u SH_SHR_U
#define SHIDX_shr_s SH_SHR_S
#define SHIDX_rotl SH_ROTL
static const uint16_t shop_form[OP_COUNT_][SH_COUNT_] = {
#define SHOP(op, sh) [OP_i32_##op][SHIDX_##sh] = IOP_i32_##op##_##sh,
#include "iops.def"
};

/* Forms reading their first (acc_a1) or second (acc_a2) source operand from the accumulator, by
 * base form; 0: none. */
static const uint16_t acc_a1[IOP_COUNT_] = {
#define ACC2(t, op) [IOP_##t##_##op] = IOP_##t##_##op##_a1,
#define ACC_RI(t, op) [IOP_##t##_##op##_ri] = IOP_##t##_##op##_ri_a,
#define ACC_BR(t, op)                                                                                  \
    [IOP_br_##t##_##op] = IOP_br_##t##_##op##_a1, [IOP_br_##t##_##op##_ri] = IOP_br_##t##_##op##_ri_a,   \
    [IOP_br_##t##_##op##_b] = IOP_br_##t##_##op##_a1_b, [IOP_br_##t##_##op##_ri_b] = IOP_br_##t##_##op##_ri_a_b,
#define ACC_LD(name) [IOP_##name] = IOP_##name##_a,
#define ACCF2(op) [IOP_f64_##op] = IOP_f64_##op##_a1,
#define ACCF1(form) [IOP_f64_##form] = IOP_f64_##form##_a,
#define ACC1(name) [IOP_##name] = IOP_##name##_a,
#define SHOP(op, sh) [IOP_i32_##op##_##sh] = IOP_i32_##op##_##sh##_a,
#include "iops.def"
    [IOP_i32_add_m] = IOP_i32_add_m_a,
};
static const uint16_t acc_a2[IOP_COUNT_] = {
#define ACC2(t, op) [IOP_##t##_##op] = IOP_##t##_##op##_a2,
#define ACC_BR(t, op) [IOP_br_##t##_##op] = IOP_br_##t##_##op##_a2, [IOP_br_##t##_##op##_b] = IOP_br_##t##_##op##_a2_b,
#define ACC_ST(name) [IOP_##name] = IOP_##name##_v,
#define ACCF2(op) [IOP_f64_##op] = IOP_f64_##op##_a2,
#include "iops.def"
};

/* The form of base that reads source operand k (1 or 2; 0: none) from the accumulator, or base. */
static unsigned acc_form(unsigned base, unsigned k)
{
    unsigned f = k == 1 ? acc_a1[base] : k == 2 ? acc_a2[base] : 0;
    return f ? f : base;
}

/* Compare-and-branch: the first of the four forms (rr, ri, rr back, ri back), the negated and
 * the mirrored comparison. */
static const uint16_t br_form[OP_COUNT_] = {
#define BRCMP(t, op, inv, swp) [OP_##t##_##op] = IOP_br_##t##_##op,
#include "iops.def"
};
static const uint16_t cmp_inv[OP_COUNT_] = {
#define BRCMP(t, op, inv, swp) [OP_##t##_##op] = OP_##t##_##inv,
#include "iops.def"
};
static const uint16_t cmp_swp[OP_COUNT_] = {
#define BRCMP(t, op, inv, swp) [OP_##t##_##op] = OP_##t##_##swp,
#include "iops.def"
};
/* A counter's step fused into the branch on it: the first of its four forms (rr, ri, rr back, ri
 * back) by i32 comparison; 0: none. */
static const uint16_t incbr_form[OP_COUNT_] = {
#define INCBR(op) [OP_i32_##op] = IOP_br_i32_##op##_inc,
#include "iops.def"
};

/* Functions with more locals than this get code that traps "call stack exhausted" on entry:
 * their frame could not fit any VM stack (8 MiB of locals), and no local map is built for them. */
#define TR_MAX_LOCAL_SLOTS (1u << 20)

/* ---- translator state --------------------------------------------------------------------------- */

enum { TV_SLOT, TV_LOCAL, TV_CONST };

typedef struct tval {
    uint8_t kind;
    valtype type;
    uint32_t home; /* byte offset of the home slot */
    uint32_t loc;  /* TV_LOCAL: byte offset of the local */
    uint64_t k[2]; /* TV_CONST: the value (v128: both) */
} tval;

typedef struct tblock {
    uint16_t op;     /* OP_block, OP_loop, OP_if, OP_else; OP_COUNT_ for the function */
    uint32_t height; /* stack entries below the block (its parameters excluded) */
    uint32_t base;   /* home of stack position `height` */
    functype bt;
    uint32_t loop_word; /* loop: the head */
    uint32_t fix;       /* forward branches to the end: fixup chain (index + 1) */
    uint32_t else_fix;  /* if: the branch to the else arm (fixup index + 1) */
} tblock;

typedef struct fixup {
    uint32_t word; /* the branch instruction */
    uint32_t k;    /* its displacement operand */
    uint32_t next; /* index + 1 of the next fixup of the chain */
} fixup;

/* What the last instruction was, for fusing it into the next one: a comparison (into a branch),
 * i32.add with an immediate (into a memory access's address), moves (into one movs). */
enum { LC_NONE, LC_CMP, LC_CMPI, LC_EQZ32, LC_EQZ64, LC_ADDI, LC_MOVS, LC_LOAD, LC_SHIFT, LC_FMEM };

/* Most moves merged into one movs instruction. */
#define TR_MOVS_MAX 16
/* Instructions remembered for fusions that look further back than the last one. */
#define TR_HIST 4

typedef struct tr {
    const k23vm_module *m;
    const k23vm_platform *plat;
    const void *const *handlers;
    const functype *ft;
    uint32_t funcidx;
    bool failed; /* out of memory: the error is made once, at the end */

    uint32_t nlocals;
    uint32_t *local_off; /* byte offsets of the locals */
    valtype *local_type;
    uint32_t param_slots, local_slots;
    uint32_t temp_base; /* byte offset of stack position 0's home */
    uint32_t max_end;   /* highest home end seen, bytes */

    VEC(icword) code;
    VEC(icode_pos) pos;
    VEC(tval) stk;
    VEC(tblock) blk;
    VEC(fixup) fix;
    VEC(uint32_t) scratch; /* br_table: stub position per label depth */
    uint32_t nlocal_refs;  /* TV_LOCAL entries on the stack */

    bool dead;           /* in unreachable code */
    uint32_t dead_depth; /* blocks opened inside unreachable code */

    /* From the entry up to the first label, declared locals not yet written are still zero
     * (4.4.10: locals start at their default value): setting them to zero is dropped. */
    bool entry;
    uint8_t *written; /* per local: set or teed since the entry */

    /* The last instruction emitted, for patching its destination (local.set/tee) and fusing a
     * comparison into a following branch. word == SIZE_MAX: none usable (a label was bound). */
    struct {
        size_t word;
        int dst_k; /* operand index of its destination, or -1 */
        uint32_t dst;
        uint8_t kind; /* LC_* */
        uint16_t op;
        uint32_t a, b;
        uint32_t c, woff; /* LC_LOAD: a = address, b = offset, c = add; woff: the wasm offset */
        uint32_t nmov;    /* LC_MOVS: moves so far */
        bool acc;         /* it left its result in the accumulator too (f64: facc, else acc) */
        uint8_t acc_in;   /* which source operand (1, 2) it read from the accumulator, or 0 */
        uint32_t mov[2 * TR_MOVS_MAX];
    } last;
    /* The instruction before it (word, destination, acc), for fusions that take the last one
     * back and want to know what the accumulator then holds. */
    struct {
        size_t word;
        uint32_t dst;
        bool acc;
    } prev;
    /* Where the last few instructions since the last label start, oldest first (entries at or past
     * the end of the code, left by instructions taken back, are dropped by the next emit). */
    size_t hist[TR_HIST];
    unsigned nhist;
} tr;

/* ---- code emission ------------------------------------------------------------------------------ */

static K23VM_COLD void tr_oom(tr *t) { t->failed = true; }

static icword handler_word(const tr *t, unsigned op)
{
    icword w;
    w.u = 0;
    if (t->handlers) w.h = t->handlers[op];
    else w.op = op;
    return w;
}

/* Appends instruction op with n operands; returns its word index. */
static size_t emit(tr *t, unsigned op, unsigned n, const uint32_t *o)
{
    size_t w = t->code.len, nw = IWORDS(n);
    t->prev.word = t->last.word;
    t->prev.dst = t->last.dst;
    t->prev.acc = t->last.acc;
    t->last.word = w;
    t->last.dst_k = -1;
    t->last.kind = LC_NONE;
    t->last.acc = false;
    t->last.acc_in = 0;
    if (!VEC_RESERVE(t->plat, &t->code, nw)) {
        tr_oom(t);
        t->last.word = SIZE_MAX;
        return w;
    }
    t->code.data[w] = handler_word(t, op);
    while (t->nhist && t->hist[t->nhist - 1] >= w) t->nhist--;
    if (t->nhist == TR_HIST) memmove(t->hist, t->hist + 1, --t->nhist * sizeof *t->hist);
    t->hist[t->nhist++] = w;
    for (size_t i = 1; i < nw; i++) t->code.data[w + i].u = 0;
    for (unsigned k = 0; k < n; k++) t->code.data[w + 1 + k / 2].w[k % 2] = o[k];
    t->code.len += nw;
    return w;
}

#define EMIT(t, op, ...) \
    emit((t), (op), sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), (const uint32_t[]){__VA_ARGS__})

static void set_opnd(tr *t, size_t w, unsigned k, uint32_t v)
{
    if (w + 1 + k / 2 < t->code.len) t->code.data[w + 1 + k / 2].w[k % 2] = v;
}

/* The next instruction can trap or call: remember its wasm offset. */
static void mark(tr *t, uint32_t offset)
{
    icode_pos p = {(uint32_t)t->code.len, offset};
    if (!VEC_PUSH(t->plat, &t->pos, p)) tr_oom(t);
}

/* No peephole across a label: code may arrive here from elsewhere. */
static void bind_label(tr *t)
{
    t->last.word = SIZE_MAX;
    t->prev.word = SIZE_MAX;
    t->nhist = 0;
    t->entry = false;
}

/* The start of the instruction emitted right before the one at word w since the last label, or
 * SIZE_MAX. */
static size_t hist_before(const tr *t, size_t w)
{
    for (unsigned i = t->nhist; i-- > 1;)
        if (t->hist[i] == w) return t->hist[i - 1];
    return SIZE_MAX;
}

/* The last instruction was taken back (the code truncated at its word): the one before it is the
 * last again, as far as its destination and accumulator go; nothing fuses with it otherwise. */
static void back_to_prev(tr *t)
{
    t->last.word = t->prev.word;
    t->last.dst = t->prev.dst;
    t->last.acc = t->prev.acc;
    t->last.kind = LC_NONE;
    t->last.dst_k = -1;
    t->last.acc_in = 0;
    t->prev.word = SIZE_MAX;
}

/* Whether instruction op (of fixed length) starts at word w and ends at `end`. */
static bool is_insn(const tr *t, size_t w, size_t end, unsigned op)
{
    return w != SIZE_MAX && w + IWORDS(interp_nopnd[op]) == end && end <= t->code.len &&
           t->code.data[w].u == handler_word(t, op).u;
}

/* A one-slot move; consecutive ones become one movs instruction. */
static void emit_mov(tr *t, uint32_t d, uint32_t s)
{
    if (t->last.word != SIZE_MAX && t->last.kind == LC_MOVS && t->last.nmov < TR_MOVS_MAX) {
        uint32_t n = t->last.nmov;
        uint32_t o[1 + 2 * TR_MOVS_MAX];
        o[0] = n + 1;
        memcpy(o + 1, t->last.mov, 2 * n * sizeof(uint32_t));
        o[1 + 2 * n] = d;
        o[2 + 2 * n] = s;
        t->code.len = t->last.word; /* moves do not trap: no position entry to drop */
        uint32_t keep[2 * TR_MOVS_MAX];
        memcpy(keep, t->last.mov, 2 * n * sizeof(uint32_t));
        emit(t, IOP_movs, 3 + 2 * n, o);
        memcpy(t->last.mov, keep, 2 * n * sizeof(uint32_t));
        t->last.mov[2 * n] = d;
        t->last.mov[2 * n + 1] = s;
        t->last.nmov = n + 1;
        t->last.kind = LC_MOVS;
        return;
    }
    EMIT(t, IOP_mov, d, s);
    t->last.kind = LC_MOVS;
    t->last.nmov = 1;
    t->last.mov[0] = d;
    t->last.mov[1] = s;
}

/* ---- branches and fixups ------------------------------------------------------------------------ */

static void add_fixup(tr *t, uint32_t *chain, size_t word, unsigned k)
{
    fixup f = {(uint32_t)word, k, *chain};
    if (!VEC_PUSH(t->plat, &t->fix, f)) {
        tr_oom(t);
        return;
    }
    *chain = (uint32_t)t->fix.len;
}

/* Points every branch of the chain at the current position. */
static void bind_chain(tr *t, uint32_t chain)
{
    size_t here = t->code.len;
    while (chain) {
        const fixup *f = &t->fix.data[chain - 1];
        set_opnd(t, f->word, f->k, (uint32_t)(int32_t)(here - f->word));
        chain = f->next;
    }
}

static uint32_t disp_to(const tr *t, size_t target) { return (uint32_t)(int32_t)((int64_t)target - (int64_t)t->code.len); }

/* ---- the stack model ------------------------------------------------------------------------------ */

static uint32_t vt_bytes(valtype t) { return valtype_slots(t) * 8u; }

static uint32_t next_home(const tr *t)
{
    if (t->stk.len == 0) return t->temp_base;
    const tval *v = &t->stk.data[t->stk.len - 1];
    return v->home + vt_bytes(v->type);
}

static tval *push(tr *t, uint8_t kind, valtype type)
{
    if (!VEC_RESERVE(t->plat, &t->stk, 1)) {
        tr_oom(t);
        return NULL;
    }
    tval *v = &t->stk.data[t->stk.len];
    v->kind = kind;
    v->type = type;
    v->home = next_home(t);
    v->loc = 0;
    v->k[0] = v->k[1] = 0;
    uint32_t end = v->home + vt_bytes(type);
    if (end > t->max_end) t->max_end = end;
    t->stk.len++;
    return v;
}

static void push_slot(tr *t, valtype type) { push(t, TV_SLOT, type); }

/* The result of the instruction just emitted, which writes it to dst: pushed into its home (dst),
 * the instruction patchable to write a local instead (local.set/tee after it). */
static void result_slot(tr *t, valtype type, uint32_t dst)
{
    push_slot(t, type);
    t->last.dst_k = 0;
    t->last.dst = dst;
}

static void pop_n(tr *t, uint32_t n)
{
    for (uint32_t i = 0; i < n && t->stk.len; i++) {
        if (t->stk.data[--t->stk.len].kind == TV_LOCAL) t->nlocal_refs--;
    }
}

static tval *at(tr *t, uint32_t i) { return &t->stk.data[i]; }

/* Emits code that puts value v into slot dst (v's kind unchanged). */
static void emit_move(tr *t, uint32_t dst, const tval *v)
{
    bool wide = v->type == K23VM_V128;
    switch (v->kind) {
    case TV_SLOT:
        if (v->home != dst) {
            if (wide) EMIT(t, IOP_mov2, dst, v->home);
            else emit_mov(t, dst, v->home);
        }
        break;
    case TV_LOCAL:
        if (v->loc != dst) {
            if (wide) EMIT(t, IOP_mov2, dst, v->loc);
            else emit_mov(t, dst, v->loc);
        }
        break;
    default:
        if (wide)
            EMIT(t, IOP_const128, dst, (uint32_t)v->k[0], (uint32_t)(v->k[0] >> 32), (uint32_t)v->k[1],
                 (uint32_t)(v->k[1] >> 32));
        else if (v->k[0] <= UINT32_MAX)
            EMIT(t, IOP_const32, dst, (uint32_t)v->k[0]);
        else
            EMIT(t, IOP_const64, dst, (uint32_t)v->k[0], (uint32_t)(v->k[0] >> 32));
        break;
    }
}

/* Puts stack entry i into its home for good (straight-line code only: every later path must
 * pass here). */
static void materialize(tr *t, uint32_t i)
{
    tval *v = at(t, i);
    if (v->kind == TV_SLOT) return;
    tval copy = *v;
    emit_move(t, copy.home, &copy);
    v = at(t, i);
    if (v->kind == TV_LOCAL) t->nlocal_refs--;
    v->kind = TV_SLOT;
}

/* Where an instruction reads stack entry i from. */
static uint32_t ref(tr *t, uint32_t i)
{
    tval *v = at(t, i);
    if (v->kind == TV_LOCAL) return v->loc;
    if (v->kind == TV_CONST) materialize(t, i);
    return at(t, i)->home;
}

static uint32_t ref_top(tr *t, uint32_t from_top) { return ref(t, t->stk.len - 1 - from_top); }

/* Every pending local.get of the local at byte offset loc (or of every local, loc == UINT32_MAX)
 * goes to its home, below stack entry `below`. */
static void flush_locals(tr *t, uint32_t loc, uint32_t below)
{
    if (!t->nlocal_refs) return;
    for (uint32_t i = 0; i < below && t->nlocal_refs; i++) {
        const tval *v = at(t, i);
        if (v->kind == TV_LOCAL && (loc == UINT32_MAX || v->loc == loc)) materialize(t, i);
    }
}

/* Emits moves of the top n stack entries to the homes of a label's values at base (the entries'
 * kinds unchanged, so this may sit on a conditional path). Increasing order is safe: every
 * destination lies at or below its source's position. */
static void move_values(tr *t, uint32_t n, uint32_t base)
{
    uint32_t first = t->stk.len - n;
    for (uint32_t i = 0; i < n; i++) {
        tval v = *at(t, first + i);
        emit_move(t, base, &v);
        base += vt_bytes(v.type);
    }
}

/* Whether the top n entries are exactly at the homes of a label based at base, once
 * materialised. */
static bool same_place(const tr *t, uint32_t n, uint32_t base)
{
    return n == 0 || t->stk.data[t->stk.len - n].home == base;
}

/* ---- blocks ----------------------------------------------------------------------------------------- */

static tblock *blk_top(tr *t) { return &t->blk.data[t->blk.len - 1]; }
/* The block a branch of depth l targets. */
static tblock *blk_at(tr *t, uint32_t l) { return &t->blk.data[t->blk.len - 1 - l]; }

/* A label's values: a loop takes its parameters, other blocks their results (3.3.5). */
static const valtype *label_types(const tblock *b, uint32_t *n)
{
    if (b->op == OP_loop) {
        *n = b->bt.nparams;
        return b->bt.params;
    }
    *n = b->bt.nresults;
    return b->bt.results;
}

/* Whether stack entry v is what the last instruction just wrote (to a temporary or, patched, to
 * a local), which it also left in the accumulator of v's type (exec.c: f64 in facc, any other
 * scalar in acc; the type of what was written is v's type). */
static bool in_acc(const tr *t, const tval *v)
{
    if (t->last.word == SIZE_MAX || !t->last.acc || v->kind == TV_CONST || v->type == K23VM_V128) return false;
    return (v->kind == TV_LOCAL ? v->loc : v->home) == t->last.dst;
}

/* ---- conditions ---------------------------------------------------------------------------------- */

enum { CK_NZ, CK_EQZ32, CK_EQZ64, CK_CMP, CK_CMPI };

typedef struct cond {
    uint8_t kind;
    uint8_t acc; /* source operand (1: a, 2: b) to read from the accumulator, or 0 */
    uint16_t op; /* CK_CMP*: the comparison */
    uint32_t a, b;
    size_t step; /* the i32_add_ri that put that accumulator operand there, right before, or SIZE_MAX */
} cond;

/* Whether the instruction at word w, ending at `end`, is a plain i32.add with an immediate. */
static bool is_step(const tr *t, size_t w, size_t end) { return is_insn(t, w, end, IOP_i32_add_ri); }

/* Pops the i32 condition on top. When the last instruction computed it by a comparison, that
 * instruction is taken back and its operands returned, for a fused branch. */
static cond pop_cond(tr *t)
{
    cond c = {CK_NZ, 0, 0, 0, 0, SIZE_MAX};
    tval *v = at(t, t->stk.len - 1);
    uint8_t lk = t->last.kind;
    if (t->last.word != SIZE_MAX && lk >= LC_CMP && lk <= LC_EQZ64 && v->kind == TV_SLOT && v->home == t->last.dst) {
        c.a = t->last.a;
        c.b = t->last.b;
        c.op = t->last.op;
        c.kind = lk == LC_CMP ? CK_CMP : lk == LC_CMPI ? CK_CMPI : lk == LC_EQZ32 ? CK_EQZ32 : CK_EQZ64;
        c.acc = t->last.acc_in; /* taken back, so the accumulator still holds what it read */
        t->code.len = t->last.word; /* comparisons do not trap: no position entry to drop */
        t->last.word = SIZE_MAX;
        if (c.acc && is_step(t, t->prev.word, t->code.len)) c.step = t->prev.word;
        pop_n(t, 1);
        return c;
    }
    if (in_acc(t, v)) {
        c.acc = 1;
        if (v->type == K23VM_I32 && is_step(t, t->last.word, t->code.len)) c.step = t->last.word;
    }
    c.a = ref_top(t, 0);
    pop_n(t, 1);
    return c;
}

/* Emits a branch taken when c is (if_true) or is not true; returns the instruction word and sets
 * *k to its displacement operand. */
/* The branch of emit_cond_br fused with the counter step right before it (iops.def INCBR), when
 * c tests the step's sum through the accumulator; SIZE_MAX when it does not apply. */
static size_t emit_step_br(tr *t, cond c, bool if_true, bool back, uint32_t disp, unsigned *k)
{
    if (c.step == SIZE_MAX || !c.acc || c.step + IWORDS(3) != t->code.len) return SIZE_MAX;
    uint16_t cmp;
    uint32_t b;
    bool imm = true;
    switch (c.kind) {
    case CK_NZ: cmp = OP_i32_ne, b = 0; break;
    case CK_EQZ32: cmp = OP_i32_eq, b = 0; break;
    case CK_CMPI: cmp = c.op, b = c.b; break;
    case CK_CMP:
        imm = false;
        if (c.acc == 1) cmp = c.op, b = c.b;
        else cmp = cmp_swp[c.op], b = c.a; /* the sum is the right operand: mirror */
        break;
    default: return SIZE_MAX;
    }
    if (!if_true) cmp = cmp_inv[cmp];
    if (!incbr_form[cmp]) return SIZE_MAX;
    const uint32_t *so = (const uint32_t *)(t->code.data + c.step + 1); /* dst, a, k */
    uint32_t dst = so[0], a = so[1], step = so[2];
    t->code.len = c.step; /* the add does not trap: no position entry to drop */
    t->last.word = SIZE_MAX;
    if (back) disp += IWORDS(3); /* the branch now starts at the add */
    *k = 4;
    return EMIT(t, incbr_form[cmp] + (imm ? 1u : 0u) + (back ? 2u : 0u), dst, a, step, b, disp);
}

static size_t emit_cond_br(tr *t, cond c, bool if_true, bool back, uint32_t disp, unsigned *k)
{
    size_t fused = emit_step_br(t, c, if_true, back, disp, k);
    if (fused != SIZE_MAX) return fused;
    unsigned op;
    switch (c.kind) {
    case CK_NZ:
        op = if_true ? (back ? IOP_br_nz_b : IOP_br_nz) : (back ? IOP_br_z_b : IOP_br_z);
        *k = 1;
        return EMIT(t, acc_form(op, c.acc), c.a, disp);
    case CK_EQZ32:
        op = if_true ? (back ? IOP_br_z_b : IOP_br_z) : (back ? IOP_br_nz_b : IOP_br_nz);
        *k = 1;
        return EMIT(t, acc_form(op, c.acc), c.a, disp);
    case CK_EQZ64:
        op = if_true ? (back ? IOP_br_z64_b : IOP_br_z64) : (back ? IOP_br_nz64_b : IOP_br_nz64);
        *k = 1;
        return EMIT(t, acc_form(op, c.acc), c.a, disp);
    default: {
        uint16_t cmp = if_true ? c.op : cmp_inv[c.op];
        op = br_form[cmp] + (c.kind == CK_CMPI ? 1u : 0u) + (back ? 2u : 0u);
        *k = 2;
        return EMIT(t, acc_form(op, c.acc), c.a, c.b, disp);
    }
    }
}

/* ---- returns --------------------------------------------------------------------------------------- */

/* Emits the return of the top results (kinds unchanged: may sit on a conditional path). */
static void emit_ret(tr *t)
{
    uint32_t n = t->ft->nresults, P = t->param_slots * 8u;
    if (n == 0) {
        EMIT(t, IOP_ret0, P);
        return;
    }
    tval *v = at(t, t->stk.len - n);
    if (n == 1) {
        uint32_t src;
        if (v->kind == TV_CONST) {
            tval copy = *v;
            emit_move(t, copy.home, &copy);
            src = copy.home;
        } else {
            src = v->kind == TV_LOCAL ? v->loc : v->home;
        }
        EMIT(t, v->type == K23VM_V128 ? IOP_ret2 : IOP_ret1, P, src);
        return;
    }
    uint32_t first = v->home, nslots = 0;
    for (uint32_t i = t->stk.len - n; i < t->stk.len; i++) {
        tval c = *at(t, i);
        emit_move(t, c.home, &c);
        nslots += valtype_slots(c.type);
    }
    EMIT(t, IOP_retn, P, first, nslots);
}

/* ---- branches ---------------------------------------------------------------------------------------- */

/* Unconditional branch to label l with the top values; the code after it is dead. */
static void br_uncond(tr *t, uint32_t l)
{
    tblock *b = blk_at(t, l);
    if (b->op == OP_COUNT_) {
        emit_ret(t);
        return;
    }
    uint32_t n;
    label_types(b, &n);
    move_values(t, n, b->base);
    b = blk_at(t, l);
    if (b->op == OP_loop) {
        EMIT(t, IOP_x_br_b, disp_to(t, b->loop_word));
    } else {
        size_t w = EMIT(t, IOP_x_br, 0);
        add_fixup(t, &blk_at(t, l)->fix, w, 0);
    }
}

static void tr_br_if(tr *t, uint32_t l)
{
    cond c = pop_cond(t);
    size_t at_cond = t->code.len;
    tblock *b = blk_at(t, l);
    uint32_t n;
    label_types(b, &n);
    bool is_fn = b->op == OP_COUNT_, is_loop = b->op == OP_loop;
    uint32_t base = b->base;
    unsigned k;
    if (!is_fn && same_place(t, n, base)) {
        /* The values are where the label wants them: materialise them (both paths may) and
         * branch straight there. */
        for (uint32_t i = t->stk.len - n; i < t->stk.len; i++) materialize(t, i);
        if (t->code.len != at_cond) c.acc = 0; /* the moves came in between */
        b = blk_at(t, l);
        if (is_loop) {
            emit_cond_br(t, c, true, true, disp_to(t, b->loop_word), &k);
        } else {
            size_t w = emit_cond_br(t, c, true, false, 0, &k);
            add_fixup(t, &blk_at(t, l)->fix, w, k);
        }
        return;
    }
    /* Otherwise skip, when not taken, over the moves and the branch. */
    size_t skip = emit_cond_br(t, c, false, false, 0, &k);
    br_uncond(t, l);
    set_opnd(t, skip, k, (uint32_t)(t->code.len - skip));
    bind_label(t);
}

static void tr_br_table(tr *t, const insn *in)
{
    const k23vm_module *m = t->m;
    uint32_t idx = ref_top(t, 0);
    pop_n(t, 1);
    uint32_t count = in->u.br_table.count;
    uint32_t n;
    label_types(blk_at(t, in->u.br_table.deflt), &n);
    for (uint32_t i = t->stk.len - n; i < t->stk.len; i++) materialize(t, i);

    /* The table: idx, count, then count + 1 displacements. */
    size_t w = t->code.len;
    uint32_t nops = 3 + count;
    {
        size_t nw = IWORDS(nops);
        if (!VEC_RESERVE(t->plat, &t->code, nw)) {
            tr_oom(t);
            return;
        }
        t->code.data[w] = handler_word(t, IOP_x_br_table);
        for (size_t i = 1; i < nw; i++) t->code.data[w + i].u = 0;
        t->code.len += nw;
        set_opnd(t, w, 0, idx);
        set_opnd(t, w, 1, count);
        t->last.word = SIZE_MAX;
    }
    /* Stubs, one per distinct label that cannot be reached directly. */
    uint32_t depth = (uint32_t)t->blk.len;
    if (!VEC_RESERVE(t->plat, &t->scratch, depth)) {
        tr_oom(t);
        return;
    }
    for (uint32_t i = 0; i < depth; i++) t->scratch.data[i] = UINT32_MAX;
    reader lr;
    rd_init(&lr, m->bytes, m->size);
    lr.p = m->bytes + in->u.br_table.labels_off;
    for (uint32_t i = 0; i <= count; i++) {
        uint32_t l = in->u.br_table.deflt;
        if (i < count) rd_u32(&lr, &l); /* well-formed: the validator read it */
        tblock *b = blk_at(t, l);
        if (b->op != OP_COUNT_ && b->op != OP_loop && same_place(t, n, b->base)) {
            add_fixup(t, &blk_at(t, l)->fix, w, 2 + i);
            continue;
        }
        if (t->scratch.data[l] == UINT32_MAX) {
            t->scratch.data[l] = (uint32_t)t->code.len;
            br_uncond(t, l);
        }
        set_opnd(t, w, 2 + i, t->scratch.data[l] - (uint32_t)w);
    }
}

/* ---- block structure ---------------------------------------------------------------------------- */

static void tr_block(tr *t, const insn *in)
{
    functype bt;
    val_block_type(t->m, in->u.blocktype, &bt); /* validated */
    cond c = {0, 0, 0, 0, 0, SIZE_MAX};
    if (in->op == OP_if) c = pop_cond(t);
    size_t at_cond = t->code.len;
    /* Pending local.gets would be copied by the block's code only on the paths that change the
     * local: copy them all now. The parameters go home, where else/loop branches expect them. */
    flush_locals(t, UINT32_MAX, t->stk.len);
    for (uint32_t i = t->stk.len - bt.nparams; i < t->stk.len; i++) materialize(t, i);
    tblock nb;
    nb.op = in->op;
    nb.height = (uint32_t)t->stk.len - bt.nparams;
    nb.base = bt.nparams ? at(t, nb.height)->home : next_home(t);
    nb.bt = bt;
    nb.loop_word = (uint32_t)t->code.len;
    nb.fix = nb.else_fix = 0;
    if (!VEC_PUSH(t->plat, &t->blk, nb)) {
        tr_oom(t);
        return;
    }
    /* Result homes may reach above the current stack. */
    uint32_t end = nb.base;
    for (uint32_t i = 0; i < bt.nresults; i++) end += vt_bytes(bt.results[i]);
    if (end > t->max_end) t->max_end = end;
    if (in->op == OP_loop) bind_label(t);
    if (in->op == OP_if) {
        unsigned k;
        if (t->code.len != at_cond) c.acc = 0; /* copies came in between */
        size_t w = emit_cond_br(t, c, false, false, 0, &k);
        add_fixup(t, &blk_top(t)->else_fix, w, k);
    }
}

/* Resets the stack to a block's height and pushes n entries of types ts, in their homes. */
static void reset_stack(tr *t, const tblock *b, const valtype *ts, uint32_t n)
{
    pop_n(t, (uint32_t)t->stk.len - b->height);
    for (uint32_t i = 0; i < n; i++) push_slot(t, ts[i]);
}

static void tr_else(tr *t)
{
    tblock *b = blk_top(t);
    if (!t->dead) {
        uint32_t n = b->bt.nresults;
        for (uint32_t i = t->stk.len - n; i < t->stk.len; i++) materialize(t, i);
        size_t w = EMIT(t, IOP_x_br, 0);
        add_fixup(t, &blk_top(t)->fix, w, 0);
    }
    b = blk_top(t);
    bind_chain(t, b->else_fix);
    b->else_fix = 0;
    b->op = OP_else;
    bind_label(t);
    reset_stack(t, b, b->bt.params, b->bt.nparams);
    t->dead = false;
}

static void tr_end(tr *t)
{
    tblock *b = blk_top(t);
    bool reached = !t->dead;
    if (b->op == OP_COUNT_) { /* the function's end: return what is on the stack, from where it is */
        if (!t->dead) emit_ret(t);
        t->dead = true;
        t->blk.len--;
        return;
    }
    if (!t->dead) {
        uint32_t n = b->bt.nresults;
        for (uint32_t i = t->stk.len - n; i < t->stk.len; i++) materialize(t, i);
    }
    b = blk_top(t);
    if (b->else_fix) reached = true; /* an if without else: the empty else arm falls through */
    if (b->fix) reached = true;
    bind_chain(t, b->else_fix);
    bind_chain(t, b->fix);
    bind_label(t);
    tblock done = *b;
    t->blk.len--;
    reset_stack(t, &done, done.bt.results, done.bt.nresults);
    t->dead = !reached;
}

/* ---- instructions -------------------------------------------------------------------------------- */

static bool op_can_trap(uint16_t op)
{
    switch (op_info[op].imm) {
    case IMM_memarg:
    case IMM_memarg_lane:
    case IMM_mem_init:
    case IMM_mem_copy:
    case IMM_mem_fill:
    case IMM_table_init:
    case IMM_table_copy:
        return true;
    default:
        break;
    }
    switch (op) {
    case OP_i32_div_s: case OP_i32_div_u: case OP_i32_rem_s: case OP_i32_rem_u:
    case OP_i64_div_s: case OP_i64_div_u: case OP_i64_rem_s: case OP_i64_rem_u:
    case OP_i32_trunc_f32_s: case OP_i32_trunc_f32_u: case OP_i32_trunc_f64_s: case OP_i32_trunc_f64_u:
    case OP_i64_trunc_f32_s: case OP_i64_trunc_f32_u: case OP_i64_trunc_f64_s: case OP_i64_trunc_f64_u:
        return true;
    default:
        return false;
    }
}

static bool is_commutative(uint16_t op)
{
    switch (op) {
    case OP_i32_add: case OP_i32_mul: case OP_i32_and: case OP_i32_or: case OP_i32_xor:
    case OP_i64_add: case OP_i64_mul: case OP_i64_and: case OP_i64_or: case OP_i64_xor:
        return true;
    default:
        return false;
    }
}

static bool is_cmp(uint16_t op) { return br_form[op] != 0; }

/* A binary i32/i64 operation whose right (or, mirrored, left) operand is a constant that fits
 * an immediate form. Returns false when none applies. */
static bool try_ri(tr *t, uint16_t op)
{
    if (t->stk.len < 2) return false;
    tval *l = at(t, t->stk.len - 2), *r = at(t, t->stk.len - 1);
    bool is64 = sig_info[op_info[op].sig].params[0] == K23VM_I64;
    uint64_t k;
    tval *x;
    if (r->kind == TV_CONST && l->kind != TV_CONST) {
        k = r->k[0];
        x = l;
    } else if (l->kind == TV_CONST && r->kind != TV_CONST && (is_commutative(op) || is_cmp(op))) {
        k = l->k[0];
        x = r;
        if (is_cmp(op)) op = cmp_swp[op];
    } else {
        return false;
    }
    int64_t sk = is64 ? (int64_t)k : (int64_t)(int32_t)(uint32_t)k;
    /* Rewrites onto the forms that exist. */
    if (op == OP_i32_sub) { op = OP_i32_add; sk = (int32_t)(0u - (uint32_t)sk); }
    else if (op == OP_i64_sub) {
        if (sk == INT64_MIN) return false;
        op = OP_i64_add;
        sk = -sk;
    } else if (op == OP_i32_rotr) { op = OP_i32_rotl; sk = (int32_t)((32u - ((uint32_t)sk & 31u)) & 31u); }
    else if (op == OP_i64_rotr) { op = OP_i64_rotl; sk = (int64_t)((64u - ((uint64_t)sk & 63u)) & 63u); }
    if (!ri_form[op]) return false;
    if (is64 && (sk < INT32_MIN || sk > INT32_MAX)) return false;
    uint32_t a = x->kind == TV_LOCAL ? x->loc : x->home; /* x is a slot or local */
    uint32_t dst = l->home;
    uint8_t ain = in_acc(t, x) && acc_a1[ri_form[op]] ? 1 : 0;
    pop_n(t, 2);
    EMIT(t, acc_form(ri_form[op], ain), dst, a, (uint32_t)(int32_t)sk);
    t->last.acc = true;
    t->last.acc_in = ain;
    result_slot(t, sig_info[op_info[op].sig].result, dst);
    if (shift_index(op) >= 0) {
        t->last.kind = LC_SHIFT;
        t->last.op = op;
        t->last.a = a;
        t->last.b = (uint32_t)sk & 31u;
    } else if (is_cmp(op) || op == OP_i32_add) {
        t->last.kind = op == OP_i32_add ? LC_ADDI : LC_CMPI;
        t->last.op = op;
        t->last.a = a;
        t->last.b = (uint32_t)(int32_t)sk;
    }
    return true;
}

/* The i32.xor of a shifted b into a (in the accumulator) about to be emitted ends a chain
 * (b rotl k1) ^ (b rotl k2) ^ (b sh k3): the last two instructions are i32_rotl_ri(_a) and
 * i32_xor_rotl_a on the same b, each result the next one's accumulator operand, in temporaries
 * (nothing else reads them) other than b's slot. The three become one i32_xor3 (iops.def). */
static bool fuse_xor3(tr *t, uint32_t dst, uint32_t a, uint32_t b, uint32_t k3, bool rotl3)
{
    size_t w2 = t->last.word, w1 = hist_before(t, w2);
    if (!is_insn(t, w2, t->code.len, IOP_i32_xor_rotl_a)) return false;
    bool b_acc = is_insn(t, w1, w2, IOP_i32_rotl_ri_a);
    if (!b_acc && !is_insn(t, w1, w2, IOP_i32_rotl_ri)) return false;
    const uint32_t *o1 = (const uint32_t *)(t->code.data + w1 + 1); /* d1, b, k1 */
    const uint32_t *o2 = (const uint32_t *)(t->code.data + w2 + 1); /* d2, d1, b, k2 */
    if (o2[0] != a || o2[1] != o1[0] || o2[2] != b || o1[1] != b || b == o1[0] || b == o2[0] ||
        o1[0] < t->temp_base || o2[0] < t->temp_base)
        return false;
    uint32_t ks = (o1[2] & 31u) | (o2[3] & 31u) << 8 | (k3 & 31u) << 16;
    t->code.len = w1; /* neither traps: no position entries to drop */
    t->last.word = SIZE_MAX;
    unsigned op = (rotl3 ? IOP_i32_xor3_rotl : IOP_i32_xor3_shr_u) + (b_acc ? 1u : 0u);
    EMIT(t, op, dst, b, ks);
    t->last.acc = true;
    t->last.acc_in = b_acc ? 1 : 0;
    return true;
}

/* i32 add/sub/and/or/xor one of whose operands the last instruction computed by shifting a value
 * by an immediate: the shift is taken back and done by the operation (iops.def SHOP). */
static bool try_shop(tr *t, uint16_t op)
{
    if (t->stk.len < 2 || t->last.word == SIZE_MAX || t->last.kind != LC_SHIFT) return false;
    int sh = shift_index(t->last.op);
    if (sh < 0 || !shop_form[op][sh]) return false;
    uint32_t top = (uint32_t)t->stk.len - 1;
    const tval *l = at(t, top - 1), *r = at(t, top);
    uint32_t other;
    if (r->kind == TV_SLOT && r->home == t->last.dst) other = top - 1;
    else if (l->kind == TV_SLOT && l->home == t->last.dst && is_commutative(op)) other = top;
    else return false;
    if (at(t, other)->kind == TV_CONST) return false; /* left to the immediate forms */
    uint32_t b = t->last.a, k = t->last.b;
    t->code.len = t->last.word; /* shifts do not trap: no position entry to drop */
    back_to_prev(t);
    uint8_t ain = in_acc(t, at(t, other)) ? 1 : 0;
    uint32_t dst = at(t, top - 1)->home, a = ref(t, other);
    pop_n(t, 2);
    if (op == OP_i32_xor && ain && (sh == SH_ROTL || sh == SH_SHR_U) && fuse_xor3(t, dst, a, b, k, sh == SH_ROTL)) {
        result_slot(t, K23VM_I32, dst);
        return true;
    }
    EMIT(t, acc_form(shop_form[op][sh], ain), dst, a, b, k);
    t->last.acc = true;
    t->last.acc_in = ain;
    result_slot(t, K23VM_I32, dst);
    return true;
}

/* The f64_add_m_st_a just made adds the product of the f64_mul_m right before it (its acc operand
 * is that product, in the same temporary): both become one f64_mul_m_add_st. The product's
 * temporary is consumed by the add and the sum by the store, so nothing reads what the fused
 * instruction no longer writes. When the instructions before computed the addresses (the
 * i32.adds of base + index, or a pointer's i32.add of a step), they join in too, and the
 * addresses go from register to access without a trip through their slots. */
static void fuse_mul_add(tr *t)
{
    size_t mw = t->prev.word, aw = t->last.word;
    if (!is_insn(t, mw, aw, IOP_f64_mul_m)) return;
    const uint32_t *mo = (const uint32_t *)(t->code.data + mw + 1); /* dst, a, q, qoff, qadd */
    const uint32_t *ao = (const uint32_t *)(t->code.data + aw + 1); /* dst, a, p, poff, padd */
    size_t np = t->pos.len;
    if (mo[0] != ao[0] || np < 2 || t->pos.data[np - 2].word != mw || t->pos.data[np - 1].word != aw) return;
    uint32_t o[11];
    unsigned op = IOP_f64_mul_m_add_st, n = 0;
    size_t at = mw, w1 = hist_before(t, mw), w0 = hist_before(t, w1);
    const uint32_t *s1 = (const uint32_t *)(t->code.data + w1 + 1), *s0 = (const uint32_t *)(t->code.data + w0 + 1);
    bool no_imm = mo[3] == 0 && mo[4] == 0 && ao[3] == 0 && ao[4] == 0;
    if (is_insn(t, w1, mw, IOP_i32_add) && is_insn(t, w0, w1, IOP_i32_add) && ao[2] == s0[0] && mo[2] == s1[0]) {
        /* p = x0 + y0, then q = x1 + y1 (adds commute: the shared index may be either operand) */
        uint32_t d0 = s0[0], d1 = s1[0];
        int i0 = s0[1] == s1[1] || s0[1] == s1[2] ? 1 : s0[2] == s1[1] || s0[2] == s1[2] ? 2 : 0;
        uint32_t y = i0 ? s0[i0] : 0, x0 = s0[3 - i0], x1 = s1[1] == y ? s1[2] : s1[1];
        if (i0 && no_imm && d0 != y && d0 != x1 && d0 != d1) {
            op = IOP_f64_mul_m_add_st_ix, at = w0;
            o[n++] = d0, o[n++] = x0, o[n++] = d1, o[n++] = x1, o[n++] = y, o[n++] = mo[1];
        } else {
            op = IOP_f64_mul_m_add_st_rr2, at = w0;
            o[n++] = s0[0], o[n++] = s0[1], o[n++] = s0[2], o[n++] = s1[0], o[n++] = s1[1], o[n++] = s1[2];
            o[n++] = mo[1], o[n++] = mo[3], o[n++] = mo[4], o[n++] = ao[3], o[n++] = ao[4];
        }
    } else if (is_insn(t, w1, mw, IOP_i32_add_ri) && ao[2] == s1[0] && ao[3] == 0 && ao[4] == 0) {
        /* p = x + k */
        op = IOP_f64_mul_m_add_st_ri, at = w1;
        o[n++] = s1[0], o[n++] = s1[1], o[n++] = s1[2];
        o[n++] = mo[1], o[n++] = mo[2], o[n++] = mo[3], o[n++] = mo[4];
    } else {
        o[n++] = mo[1], o[n++] = mo[2], o[n++] = mo[3], o[n++] = mo[4], o[n++] = ao[2], o[n++] = ao[3], o[n++] = ao[4];
    }
    /* The adds do not trap; the two accesses keep their entries, the second at the next word
     * (run.inc mem_oob_2nd). */
    t->pos.data[np - 2].word = (uint32_t)at;
    t->pos.data[np - 1].word = (uint32_t)at + 1;
    t->code.len = at;
    t->last.word = SIZE_MAX;
    emit(t, op, n, o);
}

/* f64.store of what an FMEM instruction just computed, to the address it loaded from: that
 * instruction becomes its read-modify-write form and the store is dropped. */
static bool try_rmw(tr *t, const insn *in)
{
    if (t->stk.len < 2 || t->last.word == SIZE_MAX || t->last.kind != LC_FMEM || !rmw_form[t->last.op]) return false;
    const tval *ad = at(t, (uint32_t)t->stk.len - 2), *v = at(t, (uint32_t)t->stk.len - 1);
    if (v->kind != TV_SLOT || v->home != t->last.dst || ad->kind == TV_CONST) return false;
    uint32_t addr = ad->kind == TV_LOCAL ? ad->loc : ad->home;
    if (addr != t->last.a || (uint32_t)in->u.mem.offset != t->last.b || t->last.c != 0) return false;
    t->code.data[t->last.word] = handler_word(t, rmw_form[t->last.op]);
    if (rmw_form[t->last.op] == IOP_f64_add_m_st_a) fuse_mul_add(t);
    t->last.kind = LC_NONE;
    t->last.word = SIZE_MAX; /* its result went to memory; nothing fuses with it any more */
    pop_n(t, 2);
    return true;
}

/* f64 arithmetic or comparison with a constant operand: one instruction with a 64-bit immediate. */
static bool try_fimm(tr *t, uint16_t op)
{
    if (!fimm_form[op] || t->stk.len < 2) return false;
    tval *l = at(t, t->stk.len - 2), *r = at(t, t->stk.len - 1);
    unsigned form;
    uint64_t k;
    tval *x;
    if (r->kind == TV_CONST && l->kind != TV_CONST) {
        form = fimm_form[op], k = r->k[0], x = l;
    } else if (l->kind == TV_CONST && r->kind != TV_CONST) {
        form = fimm_left[op], k = l->k[0], x = r;
    } else {
        return false;
    }
    uint32_t a = x->kind == TV_LOCAL ? x->loc : x->home, dst = l->home;
    uint8_t ain = in_acc(t, x) && acc_a1[form] ? 1 : 0;
    pop_n(t, 2);
    EMIT(t, acc_form(form, ain), dst, a, (uint32_t)k, (uint32_t)(k >> 32));
    t->last.acc = true;
    t->last.acc_in = ain;
    result_slot(t, sig_info[op_info[op].sig].result, dst);
    return true;
}

/* f64 arithmetic (or i32.add) one of whose operands the last instruction loaded: the load is taken
 * back and done by the arithmetic instruction (it then traps where the load would have). */
static bool try_fmem(tr *t, uint16_t op)
{
    if (!fmem_form[op] || t->stk.len < 2 || t->last.word == SIZE_MAX || t->last.kind != LC_LOAD) return false;
    valtype type = op == OP_i32_add ? K23VM_I32 : K23VM_F64;
    if (t->last.op != (type == K23VM_I32 ? OP_i32_load : OP_f64_load)) return false;
    uint32_t top = (uint32_t)t->stk.len - 1;
    const tval *l = at(t, top - 1), *r = at(t, top);
    unsigned form;
    uint32_t other;
    if (r->kind == TV_SLOT && r->home == t->last.dst) {
        form = fmem_form[op], other = top - 1;
    } else if (l->kind == TV_SLOT && l->home == t->last.dst) {
        form = fmem_left[op], other = top;
    } else {
        return false;
    }
    uint32_t addr = t->last.a, off = t->last.b, add = t->last.c, woff = t->last.woff;
    if (t->pos.len && t->pos.data[t->pos.len - 1].word == t->last.word) t->pos.len--;
    t->code.len = t->last.word;
    back_to_prev(t);
    uint8_t ain = in_acc(t, at(t, other)) && acc_a1[form] ? 1 : 0;
    size_t before = t->code.len;
    uint32_t dst = at(t, top - 1)->home, a = ref(t, other);
    if (t->code.len != before) ain = 0;
    mark(t, woff);
    pop_n(t, 2);
    unsigned emitted = acc_form(form, ain);
    EMIT(t, emitted, dst, a, addr, off, add);
    t->last.acc = true;
    t->last.acc_in = ain;
    t->last.kind = LC_FMEM; /* for a store back to the same address */
    t->last.op = (uint16_t)emitted;
    t->last.a = addr;
    t->last.b = off;
    t->last.c = add;
    result_slot(t, type, dst);
    return true;
}

/* Immediates of a fixed-signature instruction, in code.h's order. */
static unsigned imm_opnds(const insn *in, uint32_t *o)
{
    switch ((imm_kind)op_info[in->op].imm) {
    case IMM_memarg:
        o[0] = (uint32_t)in->u.mem.offset;
        o[1] = 0; /* add: set by tr_fixed when it folds an i32.add */
        return 2;
    case IMM_memarg_lane:
        o[0] = (uint32_t)in->u.mem.offset;
        o[1] = 0;
        o[2] = in->u.mem.lane;
        return 3;
    case IMM_lane:
        o[0] = in->u.lane;
        return 1;
    case IMM_v128:
    case IMM_shuffle:
        memcpy(o, in->u.v128, 16);
        return 4;
    case IMM_i32:
        o[0] = (uint32_t)in->u.i32;
        return 1;
    case IMM_f32:
        o[0] = in->u.f32;
        return 1;
    case IMM_i64:
        o[0] = (uint32_t)in->u.i64;
        o[1] = (uint32_t)((uint64_t)in->u.i64 >> 32);
        return 2;
    case IMM_f64:
        o[0] = (uint32_t)in->u.f64;
        o[1] = (uint32_t)(in->u.f64 >> 32);
        return 2;
    case IMM_data:
    case IMM_elem:
    case IMM_table:
        o[0] = in->u.index;
        return 1;
    case IMM_mem_init:
        o[0] = in->u.pair.a;
        return 1;
    case IMM_table_init:
    case IMM_table_copy:
        o[0] = in->u.pair.a;
        o[1] = in->u.pair.b;
        return 2;
    default:
        return 0;
    }
}

/* An i32/i64.load whose address is x << k (+ c, an i32.add folded already), the shift right before
 * it: one load at a scaled index (iops.def IOP_<t>_load_sh). The shift's result must be a
 * temporary that only the address used. */
static bool try_load_sh(tr *t, const insn *in, uint16_t op, bool folded, uint32_t x, uint32_t c, uint32_t dst)
{
    size_t sw = SIZE_MAX;
    const tval *ad = at(t, (uint32_t)t->stk.len - 1);
    if (folded) { /* the add is gone; the last instruction is what computed its operand x */
        sw = t->last.word;
    } else if (ad->kind == TV_SLOT && t->last.word != SIZE_MAX && ad->home == t->last.dst) {
        sw = t->last.word, x = ad->home, c = 0;
    }
    bool xacc = is_insn(t, sw, t->code.len, IOP_i32_shl_ri_a);
    if (!xacc && !is_insn(t, sw, t->code.len, IOP_i32_shl_ri)) return false;
    const uint32_t *so = (const uint32_t *)(t->code.data + sw + 1); /* d, x, k */
    if (so[0] != x || x < t->temp_base) return false;
    uint32_t sx = so[1], k = so[2] & 31u;
    t->code.len = sw; /* shifts do not trap: no position entry to drop */
    back_to_prev(t);
    mark(t, in->offset);
    pop_n(t, 1);
    EMIT(t, (op == OP_i32_load ? IOP_i32_load_sh : IOP_i64_load_sh) + (xacc ? 1u : 0u), dst, sx,
         (uint32_t)in->u.mem.offset, c, k);
    t->last.acc = true;
    t->last.acc_in = xacc ? 1 : 0;
    result_slot(t, op == OP_i32_load ? K23VM_I32 : K23VM_I64, dst);
    return true;
}

/* A fixed-signature instruction (opcodes.def sig != special): constants are folded, binary
 * operations with a constant take an immediate form, everything else is laid out generically. */
static void tr_fixed(tr *t, const insn *in)
{
    uint16_t op = in->op;
    const opinfo *oi = &op_info[op];
    const siginfo *sg = &sig_info[oi->sig];
    uint32_t np = sg->nparams;

    if (np == 0 && sg->result && (oi->imm == IMM_i32 || oi->imm == IMM_i64 || oi->imm == IMM_f32 ||
                                  oi->imm == IMM_f64 || oi->imm == IMM_v128)) {
        tval *v = push(t, TV_CONST, sg->result);
        if (!v) return;
        switch (oi->imm) {
        case IMM_i32: v->k[0] = (uint32_t)in->u.i32; break;
        case IMM_f32: v->k[0] = in->u.f32; break;
        case IMM_i64: v->k[0] = (uint64_t)in->u.i64; break;
        case IMM_f64: v->k[0] = in->u.f64; break;
        default: memcpy(v->k, in->u.v128, 16); break;
        }
        return;
    }
    if (op == OP_f64_store && try_rmw(t, in)) return;
    if (np == 2 && sg->result && (try_shop(t, op) || try_ri(t, op) || try_fmem(t, op) || try_fimm(t, op))) return;

    uint32_t o[12];
    unsigned n = 0;
    uint32_t first = (uint32_t)t->stk.len - np;
    uint32_t dst = np ? at(t, first)->home : next_home(t);
    /* A memory access whose address the last instruction computed as x + c takes x and c itself
     * (the add immediate of code.h's memarg layout). */
    bool mem = oi->imm == IMM_memarg || oi->imm == IMM_memarg_lane;
    bool fold = false;
    uint32_t fold_x = 0, fold_c = 0;
    /* An operand the last instruction left in the accumulator is read from there (if no
     * instruction comes in between to materialise another operand). */
    uint8_t ain = 0;
    if (np >= 1 && acc_a1[op] && in_acc(t, at(t, first))) ain = 1;
    else if (np >= 2 && acc_a2[op] && in_acc(t, at(t, first + 1))) ain = 2;
    if (mem && t->last.word != SIZE_MAX && t->last.kind == LC_ADDI) {
        const tval *ad = at(t, first);
        if (ad->kind == TV_SLOT && ad->home == t->last.dst) {
            fold = true;
            fold_x = t->last.a;
            fold_c = t->last.b;
            /* The add is taken back: the accumulator holds its operand x, if it read it there. */
            ain = t->last.acc_in == 1 && acc_a1[op] ? 1 : 0;
            t->code.len = t->last.word; /* i32.add does not trap: no position entry to drop */
            back_to_prev(t);
        }
    }
    if ((op == OP_i32_load || op == OP_i64_load) && try_load_sh(t, in, op, fold, fold_x, fold_c, dst)) return;
    size_t before = t->code.len;
    if (sg->result) o[n++] = dst;
    for (uint32_t i = 0; i < np; i++) o[n++] = fold && i == 0 ? fold_x : ref(t, first + i);
    if (t->code.len != before) ain = 0;
    unsigned form = acc_form(op, ain);
    unsigned nimm = imm_opnds(in, o + n);
    if (fold) o[n + 1] = fold_c;
    n += nimm;
    if (op_can_trap(op)) mark(t, in->offset);
    pop_n(t, np);
    emit(t, form, n, o);
    t->last.acc_in = ain;
    if (sg->result) {
        t->last.acc = sg->result != K23VM_V128;
        result_slot(t, sg->result, dst);
        if (is_cmp(op)) {
            t->last.kind = LC_CMP;
            t->last.op = op;
            t->last.a = o[1];
            t->last.b = o[2];
        } else if (op == OP_i32_eqz || op == OP_i64_eqz) {
            t->last.kind = op == OP_i32_eqz ? LC_EQZ32 : LC_EQZ64;
            t->last.a = o[1];
        } else if (op == OP_f64_load || op == OP_i32_load) {
            t->last.kind = LC_LOAD;
            t->last.op = op;
            t->last.a = o[1];
            t->last.b = o[2];
            t->last.c = o[3];
            t->last.woff = in->offset;
        }
    }
}

static void tr_local_set(tr *t, uint32_t idx, bool tee)
{
    uint32_t loc = t->local_off[idx];
    valtype type = t->local_type[idx];
    uint32_t top = (uint32_t)t->stk.len - 1;
    tval *v = at(t, top);
    if (v->kind == TV_LOCAL && v->loc == loc) { /* local.set x of local.get x */
        if (!tee) pop_n(t, 1);
        return;
    }
    if (t->entry && !t->written[idx] && idx >= t->ft->nparams && v->kind == TV_CONST && v->k[0] == 0 &&
        v->k[1] == 0) {
        if (!tee) pop_n(t, 1); /* the local is zero already; a tee leaves the zero on the stack */
        return;
    }
    t->written[idx] = 1;
    /* Pending reads of the local below the top must see its old value. */
    size_t before = t->code.len;
    flush_locals(t, loc, top);
    v = at(t, top);
    if (v->kind == TV_SLOT && t->code.len == before && t->last.word != SIZE_MAX && t->last.dst_k >= 0 &&
        t->last.dst == v->home) {
        /* The last instruction computed the value: let it write the local. */
        set_opnd(t, t->last.word, (unsigned)t->last.dst_k, loc);
        t->last.dst = loc;
        t->last.kind = LC_NONE; /* its result no longer sits in a home a branch could fuse with */
    } else {
        tval c = *v;
        emit_move(t, loc, &c);
    }
    pop_n(t, 1);
    if (tee) {
        tval *r = push(t, TV_LOCAL, type);
        if (r) {
            r->loc = loc;
            t->nlocal_refs++;
        }
    }
}

static void tr_call(tr *t, const insn *in, uint32_t funcidx, const functype *ft, bool indirect)
{
    uint32_t idx = 0;
    if (indirect) {
        idx = ref_top(t, 0);
        pop_n(t, 1);
    }
    uint32_t n = ft->nparams;
    for (uint32_t i = (uint32_t)t->stk.len - n; i < t->stk.len; i++) materialize(t, i);
    uint32_t a = n ? at(t, (uint32_t)t->stk.len - n)->home : next_home(t);
    mark(t, in->offset);
    if (indirect) EMIT(t, IOP_x_call_indirect, in->u.call_ind.type, in->u.call_ind.table, idx, a);
    else if (funcidx < t->m->nfunc_imports) EMIT(t, IOP_x_call_import, funcidx, a);
    else EMIT(t, IOP_x_call, funcidx - t->m->nfunc_imports, a, funcidx);
    pop_n(t, n);
    for (uint32_t i = 0; i < ft->nresults; i++) push_slot(t, ft->results[i]);
}

static k23vm_error *tr_insn(void *ctx, const insn *in, const val_state *vs)
{
    (void)vs;
    tr *t = ctx;
    uint16_t op = in->op;

    /* Structure first: it is tracked in dead code too. */
    if (t->dead) {
        switch (op) {
        case OP_block:
        case OP_loop:
        case OP_if:
            t->dead_depth++;
            return NULL;
        case OP_else:
            if (t->dead_depth == 0) tr_else(t);
            return NULL;
        case OP_end:
            if (t->dead_depth) t->dead_depth--;
            else tr_end(t);
            return NULL;
        default:
            return NULL;
        }
    }

    if (op_info[op].sig != SIG_special) {
        if (op != OP_nop) tr_fixed(t, in);
        return NULL;
    }

    const k23vm_module *m = t->m;
    switch (op) {
    case OP_nop:
        break;
    case OP_unreachable:
        mark(t, in->offset);
        EMIT(t, IOP_trap, K23VM_TRAP_UNREACHABLE);
        t->dead = true;
        break;
    case OP_block:
    case OP_loop:
    case OP_if:
        tr_block(t, in);
        break;
    case OP_else:
        tr_else(t);
        break;
    case OP_end:
        tr_end(t);
        break;
    case OP_br:
        br_uncond(t, in->u.index);
        t->dead = true;
        break;
    case OP_br_if:
        tr_br_if(t, in->u.index);
        break;
    case OP_br_table:
        tr_br_table(t, in);
        t->dead = true;
        break;
    case OP_return:
        emit_ret(t);
        t->dead = true;
        break;
    case OP_call:
        tr_call(t, in, in->u.index, module_functype(m, in->u.index), false);
        break;
    case OP_call_indirect:
        tr_call(t, in, 0, &m->types[in->u.call_ind.type], true);
        break;
    case OP_drop:
        pop_n(t, 1);
        break;
    case OP_select:
    case OP_select_t: {
        uint32_t top = (uint32_t)t->stk.len;
        valtype type = at(t, top - 3)->type;
        uint32_t dst = at(t, top - 3)->home;
        uint32_t a = ref(t, top - 3), b = ref(t, top - 2), c = ref(t, top - 1);
        pop_n(t, 3);
        EMIT(t, type == K23VM_V128 ? IOP_x_select2 : IOP_x_select, dst, a, b, c);
        result_slot(t, type, dst);
        break;
    }
    case OP_local_get: {
        tval *v = push(t, TV_LOCAL, t->local_type[in->u.index]);
        if (v) {
            v->loc = t->local_off[in->u.index];
            t->nlocal_refs++;
        }
        break;
    }
    case OP_local_set:
    case OP_local_tee:
        tr_local_set(t, in->u.index, op == OP_local_tee);
        break;
    case OP_global_get: {
        valtype type = m->globaltypes[in->u.index].type;
        uint32_t dst = next_home(t);
        EMIT(t, type == K23VM_V128 ? IOP_x_global_get2 : IOP_x_global_get, dst, in->u.index);
        result_slot(t, type, dst);
        break;
    }
    case OP_global_set: {
        valtype type = m->globaltypes[in->u.index].type;
        uint32_t s = ref_top(t, 0);
        pop_n(t, 1);
        EMIT(t, type == K23VM_V128 ? IOP_x_global_set2 : IOP_x_global_set, s, in->u.index);
        break;
    }
    case OP_table_get: {
        uint32_t dst = at(t, (uint32_t)t->stk.len - 1)->home, i = ref_top(t, 0);
        pop_n(t, 1);
        mark(t, in->offset);
        EMIT(t, IOP_x_table_get, dst, i, in->u.index);
        result_slot(t, m->tables[in->u.index].elem, dst);
        break;
    }
    case OP_table_set: {
        uint32_t i = ref_top(t, 1), v = ref_top(t, 0);
        pop_n(t, 2);
        mark(t, in->offset);
        EMIT(t, IOP_x_table_set, i, v, in->u.index);
        break;
    }
    case OP_table_grow: {
        uint32_t dst = at(t, (uint32_t)t->stk.len - 2)->home, init = ref_top(t, 1), n = ref_top(t, 0);
        pop_n(t, 2);
        EMIT(t, IOP_x_table_grow, dst, init, n, in->u.index);
        result_slot(t, K23VM_I32, dst);
        break;
    }
    case OP_table_fill: {
        uint32_t i = ref_top(t, 2), v = ref_top(t, 1), n = ref_top(t, 0);
        pop_n(t, 3);
        mark(t, in->offset);
        EMIT(t, IOP_x_table_fill, i, v, n, in->u.index);
        break;
    }
    case OP_ref_null: {
        tval *v = push(t, TV_CONST, in->u.reftype);
        if (v) v->k[0] = 0;
        break;
    }
    case OP_ref_is_null: {
        uint32_t dst = at(t, (uint32_t)t->stk.len - 1)->home, s = ref_top(t, 0);
        pop_n(t, 1);
        EMIT(t, IOP_x_ref_is_null, dst, s);
        result_slot(t, K23VM_I32, dst);
        break;
    }
    case OP_ref_func: {
        uint32_t dst = next_home(t);
        EMIT(t, IOP_x_ref_func, dst, in->u.index);
        result_slot(t, K23VM_FUNCREF, dst);
        break;
    }
    default:
        /* Every special opcode is handled above (validation let nothing else through). */
        break;
    }
    return NULL;
}

/* ---- function setup --------------------------------------------------------------------------------- */

static k23vm_error *tr_begin(void *ctx, const val_state *vs)
{
    (void)vs;
    tr *t = ctx;
    uint32_t n = t->nlocals, off = 0, i = 0;
    const functype *ft = t->ft;
    for (; i < ft->nparams; i++) {
        t->local_off[i] = off;
        t->local_type[i] = ft->params[i];
        off += vt_bytes(ft->params[i]);
    }
    t->param_slots = off / 8;
    off += FRAME_HDR * 8;
    const func *f = &t->m->funcs[t->funcidx - t->m->nfunc_imports];
    for (uint32_t r = 0; r < f->nruns; r++) {
        for (uint32_t j = 0; j < f->runs[r].count && i < n; j++, i++) {
            t->local_off[i] = off;
            t->local_type[i] = f->runs[r].type;
            off += vt_bytes(f->runs[r].type);
        }
    }
    t->local_slots = off / 8 - t->param_slots - FRAME_HDR;
    t->temp_base = t->max_end = off;
    tblock fb;
    memset(&fb, 0, sizeof fb);
    fb.op = OP_COUNT_;
    fb.base = off;
    fb.bt.nresults = ft->nresults;
    fb.bt.results = ft->results;
    if (!VEC_PUSH(t->plat, &t->blk, fb)) return err_oom();
    return NULL;
}

static k23vm_error *tr_insn_checked(void *ctx, const insn *in, const val_state *vs)
{
    tr *t = ctx;
    tr_insn(ctx, in, vs);
    return t->failed ? err_oom() : NULL;
}

static void tr_free(tr *t)
{
    const k23vm_platform *p = t->plat;
    mem_free(p, t->local_off, (size_t)t->nlocals * sizeof *t->local_off);
    mem_free(p, t->local_type, (size_t)t->nlocals);
    mem_free(p, t->written, (size_t)t->nlocals);
    VEC_FREE(p, &t->code);
    VEC_FREE(p, &t->pos);
    VEC_FREE(p, &t->stk);
    VEC_FREE(p, &t->blk);
    VEC_FREE(p, &t->fix);
    VEC_FREE(p, &t->scratch);
}

/* Packs the translation into one allocation. */
static icode *tr_finish(tr *t)
{
    size_t code_bytes = t->code.len * sizeof(icword), pos_bytes = t->pos.len * sizeof(icode_pos);
    size_t bytes = sizeof(icode) + code_bytes + pos_bytes;
    icode *c = mem_alloc(t->plat, bytes);
    if (!c) return NULL;
    c->param_slots = t->param_slots;
    c->local_slots = t->local_slots;
    uint32_t frame = t->max_end / 8, res = 0;
    for (uint32_t i = 0; i < t->ft->nresults; i++) res += valtype_slots(t->ft->results[i]);
    if (res > frame) frame = res;
    c->frame_slots = frame;
    c->result_slots = res;
    c->funcidx = t->funcidx;
    c->npos = (uint32_t)t->pos.len;
    c->bytes = bytes;
    c->nwords = t->code.len;
    memcpy(c->code, t->code.data, code_bytes);
    icode_pos *pos = (icode_pos *)((uint8_t *)c->code + code_bytes);
    if (pos_bytes) memcpy(pos, t->pos.data, pos_bytes);
    c->pos = pos;
    return c;
}

/* Code for a function whose locals cannot fit any frame: it traps on entry. */
static icode *oversized(tr *t)
{
    uint32_t o[1] = {K23VM_TRAP_STACK_EXHAUSTED};
    mark(t, t->m->funcs[t->funcidx - t->m->nfunc_imports].body_start);
    emit(t, IOP_trap, 1, o);
    if (t->failed) return NULL;
    t->param_slots = 0;
    t->local_slots = 0;
    t->max_end = UINT32_MAX & ~7u;
    return tr_finish(t);
}

static k23vm_error *translate(const k23vm_module *m, uint32_t defidx, icode **out)
{
    tr t;
    memset(&t, 0, sizeof t);
    t.m = m;
    t.plat = m->plat;
    t.handlers = interp_handler_table(m->engine->bounds == K23VM_BOUNDS_GUARD);
    t.funcidx = m->nfunc_imports + defidx;
    t.ft = module_functype(m, t.funcidx);
    t.last.word = SIZE_MAX;
    t.prev.word = SIZE_MAX;
    const func *f = &m->funcs[defidx];
    uint64_t nlocals = (uint64_t)t.ft->nparams + f->nlocals;
    k23vm_error *err = NULL;
    *out = NULL;
    if (nlocals * 2 + t.ft->nparams > TR_MAX_LOCAL_SLOTS) {
        *out = oversized(&t);
        if (!*out) err = err_oom();
        tr_free(&t);
        return err;
    }
    t.nlocals = (uint32_t)nlocals;
    t.local_off = mem_alloc(t.plat, (size_t)t.nlocals * sizeof *t.local_off);
    t.local_type = mem_alloc(t.plat, t.nlocals);
    t.written = mem_zalloc(t.plat, t.nlocals);
    t.entry = true;
    if (!t.local_off || !t.local_type || !t.written) {
        tr_free(&t);
        return err_oom();
    }
    val_sink sink = {&t, tr_begin, tr_insn_checked, NULL};
    err = validate_func(m, defidx, &sink);
    if (!err && t.failed) err = err_oom();
    if (!err) {
        *out = tr_finish(&t);
        if (!*out) err = err_oom();
    }
    tr_free(&t);
    return err;
}

/* ---- the per-module cache ------------------------------------------------------------------------- */

const icode *interp_code(const k23vm_module *m, uint32_t defidx, k23vm_error **err)
{
    /* The cache is the module's one mutable part: lock-free, published by compare-and-swap. */
    icode **cache = __atomic_load_n(&((k23vm_module *)m)->interp_code, __ATOMIC_ACQUIRE);
    if (K23VM_UNLIKELY(!cache)) {
        size_t n = (size_t)(m->nfuncs - m->nfunc_imports);
        icode **fresh = mem_zalloc(m->plat, n * sizeof *fresh);
        if (!fresh) {
            *err = err_oom();
            return NULL;
        }
        icode **expected = NULL;
        if (__atomic_compare_exchange_n(&((k23vm_module *)m)->interp_code, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            cache = fresh;
        } else {
            mem_free(m->plat, fresh, n * sizeof *fresh);
            cache = expected;
        }
    }
    icode *c = __atomic_load_n(&cache[defidx], __ATOMIC_ACQUIRE);
    if (K23VM_LIKELY(c != NULL)) return c;
    *err = translate(m, defidx, &c);
    if (*err) return NULL;
    icode *expected = NULL;
    if (!__atomic_compare_exchange_n(&cache[defidx], &expected, c, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        mem_free(m->plat, c, c->bytes);
        c = expected;
    }
    return c;
}

void interp_module_free(k23vm_module *m)
{
    icode **cache = m->interp_code;
    if (!cache) return;
    size_t n = (size_t)(m->nfuncs - m->nfunc_imports);
    for (size_t i = 0; i < n; i++)
        if (cache[i]) mem_free(m->plat, cache[i], cache[i]->bytes);
    mem_free(m->plat, cache, n * sizeof *cache);
    m->interp_code = NULL;
}
