/* code.h - the interpreter's internal code: instruction set, instruction layout, frame layout and
 * the per-function code object. Shared by the translator (translate.c), which writes it, and the
 * dispatch loop (exec.c), which runs it. Pipeline position: after validation, before execution
 * (ARCHITECTURE.md 1, 4).
 *
 * ---- instructions ------------------------------------------------------------------------------
 * Code is an array of 8-byte words (icword). An instruction is one handler word followed by its
 * 32-bit operands, packed two to a word and padded to a whole word, so every instruction (and
 * every handler word) is 8-byte aligned, which riscv64 wants for its loads:
 *
 *     word 0: handler (computed-goto build: the handler's label address; switch build: the
 *             internal opcode number)
 *     word 1: operand 0 | operand 1 << 32
 *     word 2: operand 2 | operand 3 << 32   ...
 *
 * The instruction set is IOP_*: every opcode of opcodes.def (a fixed-signature WebAssembly
 * instruction is translated one to one) followed by the interpreter's own (iops.def). The operands
 * of a translated fixed-signature instruction follow from its signature and immediate kind, so
 * the translator lays out all of them, SIMD included, with one piece of code:
 *
 *     [result slot] [operand slots, deepest first] [immediates]
 *
 *     immediate kind   operands
 *     memarg           offset, add: the access is at (u32)(address + add) + offset (4.4.7; the
 *                      memory index is always 0 in 2.0). add is 0 unless the translator folded
 *                      an `i32.add x, c` that computed the address into the access
 *     memarg_lane      offset, add, lane
 *     lane             lane
 *     i32, f32         the value (bits)
 *     i64, f64         low half, high half
 *     v128, shuffle    16 bytes in 4 operands
 *     data, elem       segment index
 *     mem_init         data segment index
 *     table            table index
 *     table_init       elem segment index, table index
 *     table_copy       destination table, source table
 *     mem, mem_copy, mem_fill, none: nothing
 *
 * A "slot operand" is the byte offset of a value in the current frame (slot_off). Results are
 * always written as whole 8-byte slots (i32 and f32 zero-extended), so that a later 8-byte move of
 * the slot never waits on a narrower store (store forwarding).
 *
 * ---- frames ---------------------------------------------------------------------------------------
 * A frame is a run of 8-byte slots on the store's VM stack (runtime.h), fp pointing at its first:
 *
 *     fp[0 .. P)            parameters (P = param_slots; a v128 takes two slots)
 *     fp[P .. P+3)          header: caller's fp, return address (an icword*), caller's k23vm_func*
 *     fp[P+3 .. P+3+L)      declared locals, zeroed on entry (L = local_slots)
 *     fp[P+3+L .. F)        operand slots: the value stack, one fixed slot per stack position
 *
 * Results are returned in fp[0 ..): a call's arguments sit at the top of the caller's operand
 * slots, the callee's frame starts at the first of them, and the results come back in the same
 * place (runtime.h's calling convention; nothing is copied on a call). The header lies above
 * the arguments, in caller slots that are dead during the call.
 */
#ifndef K23VM_INTERP_CODE_H
#define K23VM_INTERP_CODE_H

#include "../opcodes.h"
#include "../runtime.h"

/* One word of code. */
typedef union icword {
    const void *h; /* computed-goto build: handler address */
    uintptr_t op;  /* switch build: internal opcode */
    uint64_t u;
    uint32_t w[2]; /* operands */
} icword;

_Static_assert(sizeof(icword) == 8, "code words are 8 bytes");

/* Frame header size in slots, and its fields, from fp + P. */
#define FRAME_HDR 3u
#define HDR_FP 0
#define HDR_RET 1
#define HDR_FUNC 2

/* ---- the internal instruction set ----------------------------------------------------------------- */

typedef enum iop {
#define OP(name, prefix, code, text, imm, sig, aux) IOP_##name,
#include "../opcodes.def"
#define IOP(name, n) IOP_##name,
#define IOP_RI(t, op) IOP_##t##_##op##_ri,
#define BRCMP(t, op, inv, swp) IOP_br_##t##_##op, IOP_br_##t##_##op##_ri, IOP_br_##t##_##op##_b, IOP_br_##t##_##op##_ri_b,
#define FIMM(op, mirror) IOP_f64_##op##_ri,
#define FIMM_IR(op) IOP_f64_##op##_ir,
#define FMEM(op, left) IOP_f64_##op##_m,
#define FMEM_ML(op) IOP_f64_##op##_ml,
#define ACC2(t, op) IOP_##t##_##op##_a1, IOP_##t##_##op##_a2,
#define ACC_RI(t, op) IOP_##t##_##op##_ri_a,
#define ACC_BR(t, op)                                                                              \
    IOP_br_##t##_##op##_a1, IOP_br_##t##_##op##_a2, IOP_br_##t##_##op##_ri_a, IOP_br_##t##_##op##_a1_b, \
        IOP_br_##t##_##op##_a2_b, IOP_br_##t##_##op##_ri_a_b,
#define ACC_LD(name) IOP_##name##_a,
#define ACC_ST(name) IOP_##name##_v,
#define ACCF2(op) IOP_f64_##op##_a1, IOP_f64_##op##_a2,
#define ACCF1(form) IOP_f64_##form##_a,
#define ACC1(name) IOP_##name##_a,
#define SHOP(op, sh) IOP_i32_##op##_##sh, IOP_i32_##op##_##sh##_a,
#define FRMW(op, form) IOP_f64_##form##_st, IOP_f64_##form##_st_a,
#include "iops.def"
    IOP_COUNT_
} iop;

_Static_assert((int)IOP_mov == (int)OP_COUNT_, "the wasm opcodes come first, in their order");

/* Operand counts. A fixed signature's result and parameters take one operand each (whatever
 * their size in slots); immediates as in the table above. */
#define ICT_none 0
#define ICT_i32 1
#define ICT_i64 1
#define ICT_f32 1
#define ICT_f64 1
#define ICT_v128 1
enum {
#define SIG(name, r, p1, p2, p3) SIGN_##name = ICT_##r + ICT_##p1 + ICT_##p2 + ICT_##p3,
#include "../opcodes.def"
};
enum {
    IMMN_none = 0, IMMN_block = 0, IMMN_label = 0, IMMN_br_table = 0, IMMN_func = 0, IMMN_call_ind = 0,
    IMMN_local = 0, IMMN_global = 0, IMMN_select_t = 0, IMMN_reftype = 0,
    IMMN_table = 1, IMMN_memarg = 2, IMMN_mem = 0, IMMN_i32 = 1, IMMN_i64 = 2, IMMN_f32 = 1,
    IMMN_f64 = 2, IMMN_v128 = 4, IMMN_shuffle = 4, IMMN_lane = 1, IMMN_memarg_lane = 3,
    IMMN_mem_init = 1, IMMN_data = 1, IMMN_mem_copy = 0, IMMN_mem_fill = 0, IMMN_table_init = 2,
    IMMN_elem = 1, IMMN_table_copy = 2,
};
enum {
#define OP(name, prefix, code, text, imm, sig, aux) NOPND_##name = SIGN_##sig + IMMN_##imm,
#include "../opcodes.def"
#define IOP(name, n) NOPND_##name = n,
#define IOP_RI(t, op) NOPND_##t##_##op##_ri = 3,
#define BRCMP(t, op, inv, swp) \
    NOPND_br_##t##_##op = 3, NOPND_br_##t##_##op##_ri = 3, NOPND_br_##t##_##op##_b = 3, NOPND_br_##t##_##op##_ri_b = 3,
#define FIMM(op, mirror) NOPND_f64_##op##_ri = 4,
#define FIMM_IR(op) NOPND_f64_##op##_ir = 4,
#define FMEM(op, left) NOPND_f64_##op##_m = 5,
#define FMEM_ML(op) NOPND_f64_##op##_ml = 5,
#define ACC2(t, op) NOPND_##t##_##op##_a1 = 3, NOPND_##t##_##op##_a2 = 3,
#define ACC_RI(t, op) NOPND_##t##_##op##_ri_a = 3,
#define ACC_BR(t, op)                                                                              \
    NOPND_br_##t##_##op##_a1 = 3, NOPND_br_##t##_##op##_a2 = 3, NOPND_br_##t##_##op##_ri_a = 3,       \
    NOPND_br_##t##_##op##_a1_b = 3, NOPND_br_##t##_##op##_a2_b = 3, NOPND_br_##t##_##op##_ri_a_b = 3,
#define ACC_LD(name) NOPND_##name##_a = NOPND_##name,
#define ACC_ST(name) NOPND_##name##_v = NOPND_##name,
#define ACCF2(op) NOPND_f64_##op##_a1 = 3, NOPND_f64_##op##_a2 = 3,
#define ACCF1(form) NOPND_f64_##form##_a = NOPND_f64_##form,
#define ACC1(name) NOPND_##name##_a = NOPND_##name,
#define SHOP(op, sh) NOPND_i32_##op##_##sh = 4, NOPND_i32_##op##_##sh##_a = 4,
#define FRMW(op, form) NOPND_f64_##form##_st = 5, NOPND_f64_##form##_st_a = 5,
#include "iops.def"
};

/* Words taken by an instruction with n operands. */
#define IWORDS(n) (1u + ((unsigned)(n) + 1u) / 2u)

/* Operand counts by internal opcode (br_table: its fixed part). */
extern const uint8_t interp_nopnd[IOP_COUNT_];

/* Handler words for this build and bounds mode (exec.c): label addresses by internal opcode, or
 * NULL in the switch build, where a handler word is the opcode number itself. */
const void *const *interp_handler_table(bool guard);

/* ---- code objects --------------------------------------------------------------------------------- */

/* Code position -> module byte offset, for traps and backtraces: one entry per instruction that
 * can trap or call, in code order. */
typedef struct icode_pos {
    uint32_t word;   /* index of the instruction's handler word */
    uint32_t offset; /* module offset of the WebAssembly instruction */
} icode_pos;

/* A translated function. One allocation: this header, the code, then the position table. Shared
 * by every instance of its module (it refers to nothing instance-specific) and immutable once
 * published. */
typedef struct icode {
    uint32_t param_slots;  /* P */
    uint32_t local_slots;  /* L: declared locals, zeroed on entry */
    uint32_t frame_slots;  /* F: the whole frame; the stack check asks for this much */
    uint32_t result_slots;
    uint32_t funcidx;      /* in the module's function index space */
    uint32_t npos;
    const icode_pos *pos;
    size_t bytes;          /* of the allocation */
    size_t nwords;
    icword code[];
} icode;

#endif
