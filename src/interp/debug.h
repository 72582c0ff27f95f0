/* debug.h - a read-only look into the interpreter for tools (tools/interp-prof/): the names of
 * the internal instructions, the decoding of translated code, and the instruction-pair profile
 * of K23VM_INTERP_PROFILE builds. The VM itself never calls any of it.
 *
 * Kept apart from code.h on purpose: a tool that includes only this header (and k23vm.h) does not
 * depend on the layout of code objects or frames, which change as the interpreter does.
 */
#ifndef K23VM_INTERP_DEBUG_H
#define K23VM_INTERP_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k23vm.h"

/* Number of internal opcodes: the wasm opcodes of opcodes.def, then those of iops.def. */
unsigned interp_debug_iop_count(void);

/* The name of internal opcode op: its IOP_ constant without the prefix ("i32_add",
 * "br_i32_lt_s_ri_b"), or NULL when op is out of range. */
const char *interp_debug_iop_name(unsigned op);

/* Translated code of one function. */
typedef struct interp_debug_func {
    uint32_t funcidx; /* in the module's function index space */
    uint32_t param_slots, local_slots, frame_slots, result_slots;
    size_t nwords;    /* words of code */
} interp_debug_func;

/* Defined functions of m (translated or not): defidx runs over [0, this). */
uint32_t interp_debug_func_count(const k23vm_module *m);

/* Whether defined function defidx of m has been translated (this never translates it); if so,
 * *out describes its code. */
bool interp_debug_func_info(const k23vm_module *m, uint32_t defidx, interp_debug_func *out);

/* One decoded instruction. */
typedef struct interp_debug_insn {
    unsigned op;          /* internal opcode; interp_debug_iop_count() when the word is no handler */
    uint32_t nopnd;       /* operands, the variable parts of movs and br_table included */
    const uint32_t *opnd; /* the operands, in code.h's order (slots as byte offsets in the frame) */
    size_t words;         /* length of the instruction in code words */
    size_t offset;        /* module byte offset of the wasm instruction, for instructions that can
                             trap or call; SIZE_MAX for the others */
} interp_debug_insn;

/* Decodes the instruction at code word `word` of translated function defidx. false past the end
 * of the code or when the function is not translated; a word that is no known handler decodes as
 * a one-word instruction with op == interp_debug_iop_count(). */
bool interp_debug_insn_at(const k23vm_module *m, uint32_t defidx, size_t word, interp_debug_insn *out);

/* The pair profile of K23VM_INTERP_PROFILE builds: count[prev * n + op] (n = interp_debug_iop_count())
 * is how often op was dispatched right after prev, over the whole process; prev 0 (`unreachable`,
 * which the translator never emits) stands for the first dispatch of an activation. NULL in other
 * builds. Not synchronised: read it while no thread runs wasm. */
const uint64_t *interp_debug_profile(void);

/* Zeroes the pair profile (nothing in other builds). */
void interp_debug_profile_reset(void);

#endif
