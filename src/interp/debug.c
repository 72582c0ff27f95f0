/* debug.c - a read-only look into the interpreter for tools (debug.h): internal opcode names,
 * decoding of translated code, the pair profile. Nothing in the VM calls it; a program that does
 * not either links none of it (it is its own object in the static library).
 *
 * The names are generated from opcodes.def and iops.def like the enum in code.h, so they cannot
 * drift from it; a family of iops.def that this file does not expand fails the build at the
 * static assert below rather than printing unnamed instructions.
 */
#include "debug.h"

#include "code.h"
#include "interp.h"

/* ---- names ------------------------------------------------------------------------------------- */

/* Each family, expanded as code.h expands it into the enum: one string per constant, spelled as
 * the constant without its IOP_ prefix. */
#define DBG_OP(name, prefix, code, text, imm, sig, aux) [IOP_##name] = #name,
#define DBG_IOP(name, n) [IOP_##name] = #name,
#define DBG_IOP_RI(t, op) [IOP_##t##_##op##_ri] = #t "_" #op "_ri",
#define DBG_BRCMP(t, op, inv, swp)                                                                      \
    [IOP_br_##t##_##op] = "br_" #t "_" #op, [IOP_br_##t##_##op##_ri] = "br_" #t "_" #op "_ri",          \
    [IOP_br_##t##_##op##_b] = "br_" #t "_" #op "_b", [IOP_br_##t##_##op##_ri_b] = "br_" #t "_" #op "_ri_b",
#define DBG_FIMM(op, mirror) [IOP_f64_##op##_ri] = "f64_" #op "_ri",
#define DBG_FIMM_IR(op) [IOP_f64_##op##_ir] = "f64_" #op "_ir",
#define DBG_FMEM(op, left) [IOP_f64_##op##_m] = "f64_" #op "_m",
#define DBG_FMEM_ML(op) [IOP_f64_##op##_ml] = "f64_" #op "_ml",
#define DBG_ACC2(t, op) [IOP_##t##_##op##_a1] = #t "_" #op "_a1", [IOP_##t##_##op##_a2] = #t "_" #op "_a2",
#define DBG_ACC_RI(t, op) [IOP_##t##_##op##_ri_a] = #t "_" #op "_ri_a",
#define DBG_ACC_BR(t, op)                                                                               \
    [IOP_br_##t##_##op##_a1] = "br_" #t "_" #op "_a1", [IOP_br_##t##_##op##_a2] = "br_" #t "_" #op "_a2", \
    [IOP_br_##t##_##op##_ri_a] = "br_" #t "_" #op "_ri_a", [IOP_br_##t##_##op##_a1_b] = "br_" #t "_" #op "_a1_b", \
    [IOP_br_##t##_##op##_a2_b] = "br_" #t "_" #op "_a2_b", [IOP_br_##t##_##op##_ri_a_b] = "br_" #t "_" #op "_ri_a_b",
#define DBG_ACC_LD(name) [IOP_##name##_a] = #name "_a",
#define DBG_ACC_ST(name) [IOP_##name##_v] = #name "_v",
#define DBG_ACCF2(op) [IOP_f64_##op##_a1] = "f64_" #op "_a1", [IOP_f64_##op##_a2] = "f64_" #op "_a2",
#define DBG_ACCF1(form) [IOP_f64_##form##_a] = "f64_" #form "_a",
#define DBG_ACC1(name) [IOP_##name##_a] = #name "_a",
#define DBG_SHOP(op, sh) [IOP_i32_##op##_##sh] = "i32_" #op "_" #sh, [IOP_i32_##op##_##sh##_a] = "i32_" #op "_" #sh "_a",
#define DBG_FRMW(op, form) [IOP_f64_##form##_st] = "f64_" #form "_st", [IOP_f64_##form##_st_a] = "f64_" #form "_st_a",

static const char *const iop_names[IOP_COUNT_] = {
#define OP DBG_OP
#include "../opcodes.def"
#define IOP DBG_IOP
#define IOP_RI DBG_IOP_RI
#define BRCMP DBG_BRCMP
#define FIMM DBG_FIMM
#define FIMM_IR DBG_FIMM_IR
#define FMEM DBG_FMEM
#define FMEM_ML DBG_FMEM_ML
#define ACC2 DBG_ACC2
#define ACC_RI DBG_ACC_RI
#define ACC_BR DBG_ACC_BR
#define ACC_LD DBG_ACC_LD
#define ACC_ST DBG_ACC_ST
#define ACCF2 DBG_ACCF2
#define ACCF1 DBG_ACCF1
#define ACC1 DBG_ACC1
#define SHOP DBG_SHOP
#define FRMW DBG_FRMW
#include "iops.def"
};

/* How many names the expansion above gave: the same families, one per constant. If iops.def
 * gains a family, code.h's enum grows and this count does not: add the family to both lists. */
enum {
    DBG_NAMED = 0
#define OP(name, prefix, code, text, imm, sig, aux) +1
#include "../opcodes.def"
#define IOP(name, n) +1
#define IOP_RI(t, op) +1
#define BRCMP(t, op, inv, swp) +4
#define FIMM(op, mirror) +1
#define FIMM_IR(op) +1
#define FMEM(op, left) +1
#define FMEM_ML(op) +1
#define ACC2(t, op) +2
#define ACC_RI(t, op) +1
#define ACC_BR(t, op) +6
#define ACC_LD(name) +1
#define ACC_ST(name) +1
#define ACCF2(op) +2
#define ACCF1(form) +1
#define ACC1(name) +1
#define SHOP(op, sh) +2
#define FRMW(op, form) +2
#include "iops.def"
};
_Static_assert((int)DBG_NAMED == (int)IOP_COUNT_, "debug.c names fewer internal opcodes than code.h defines: "
                                        "a family of iops.def is missing from both of its lists");

unsigned interp_debug_iop_count(void) { return IOP_COUNT_; }

const char *interp_debug_iop_name(unsigned op) { return op < IOP_COUNT_ ? iop_names[op] : NULL; }

/* ---- translated code ----------------------------------------------------------------------------- */

uint32_t interp_debug_func_count(const k23vm_module *m) { return m->nfuncs - m->nfunc_imports; }

/* The published code of defidx, or NULL; the same acquire loads as exec.c's func_code, since
 * another thread may be publishing. */
static const icode *code_of(const k23vm_module *m, uint32_t defidx)
{
    if (defidx >= m->nfuncs - m->nfunc_imports) return NULL;
    icode **cache = __atomic_load_n(&((k23vm_module *)m)->interp_code, __ATOMIC_ACQUIRE);
    return cache ? __atomic_load_n(&cache[defidx], __ATOMIC_ACQUIRE) : NULL;
}

bool interp_debug_func_info(const k23vm_module *m, uint32_t defidx, interp_debug_func *out)
{
    const icode *c = code_of(m, defidx);
    if (!c) return false;
    out->funcidx = c->funcidx;
    out->param_slots = c->param_slots;
    out->local_slots = c->local_slots;
    out->frame_slots = c->frame_slots;
    out->result_slots = c->result_slots;
    out->nwords = c->nwords;
    return true;
}

/* The internal opcode of a handler word. The switch build stores the opcode itself; the
 * computed-goto build a label address of one of the two run functions (the code does not record
 * which bounds mode it was translated for, so both tables are searched). */
static unsigned handler_op(icword w)
{
#ifdef K23VM_INTERP_GOTO
    for (int guard = 0; guard < 2; guard++) {
        const void *const *table = interp_handler_table(guard);
        for (unsigned op = 0; op < IOP_COUNT_; op++)
            if (table[op] == w.h) return op;
    }
    return IOP_COUNT_;
#else
    return w.op < IOP_COUNT_ ? (unsigned)w.op : IOP_COUNT_;
#endif
}

bool interp_debug_insn_at(const k23vm_module *m, uint32_t defidx, size_t word, interp_debug_insn *out)
{
    const icode *c = code_of(m, defidx);
    if (!c || word >= c->nwords) return false;
    const icword *ip = c->code + word;
    unsigned op = handler_op(*ip);
    /* Operands are 32-bit halves of the words after the handler word, low half first (code.h). */
    const uint32_t *opnd = (const uint32_t *)(const void *)(ip + 1);
    size_t avail = 2 * (c->nwords - word - 1); /* operands the code has room for */
    uint32_t n = 0;
    if (op < IOP_COUNT_) {
        n = interp_nopnd[op];
        /* The two instructions with a variable part (iops.def): movs has n pairs after its count,
         * br_table n + 1 displacements after (index, n). */
        if (op == IOP_movs && avail >= 1) n = 1 + 2 * opnd[0];
        else if (op == IOP_x_br_table && avail >= 2) n = 3 + opnd[1];
        if (n > avail) op = IOP_COUNT_; /* a truncated instruction: show the word alone */
    }
    if (op == IOP_COUNT_) n = 0;
    out->op = op;
    out->nopnd = n;
    out->opnd = opnd;
    out->words = IWORDS(n);
    /* The position table is in code order: a binary search for this very word. */
    out->offset = SIZE_MAX;
    uint32_t lo = 0, hi = c->npos;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->pos[mid].word < word) lo = mid + 1;
        else hi = mid;
    }
    if (lo < c->npos && c->pos[lo].word == word) out->offset = c->pos[lo].offset;
    return true;
}

/* ---- the pair profile ---------------------------------------------------------------------------- */

#if defined(K23VM_INTERP_PROFILE) && !defined(K23VM_INTERP_GOTO)
extern uint64_t interp_profile[IOP_COUNT_][IOP_COUNT_]; /* exec.c */

const uint64_t *interp_debug_profile(void) { return &interp_profile[0][0]; }

void interp_debug_profile_reset(void) { memset(interp_profile, 0, sizeof interp_profile); }
#else
const uint64_t *interp_debug_profile(void) { return NULL; }

void interp_debug_profile_reset(void) {}
#endif
