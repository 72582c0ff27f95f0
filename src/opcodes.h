/* opcodes.h - every WebAssembly instruction, described once in opcodes.def (STYLE.md rule 1).
 *
 * opcodes.def is an X-macro table; each line is
 *
 *   OP(name, prefix, code, "text", imm, sig, aux)
 *
 *   name    C identifier; the enum constant is OP_<name> (e.g. OP_i32_add)
 *   prefix  0 for single-byte opcodes, 0xFC or 0xFD for the prefixed ones
 *   code    the opcode byte, or the u32 sub-opcode after a prefix
 *   "text"  the text-format name ("i32.add")
 *   imm     immediate kind: IMM_<imm> (see enum imm_kind below)
 *   sig     typing: SIG_<sig>, a fixed signature from the SIGS list in opcodes.def, or SIG_special
 *           when the validator types the instruction itself (control, variables, references, ...)
 *   aux     per-kind extra fact: memory accesses: log2 of the natural alignment;
 *           lane instructions: number of lanes; 0 otherwise
 *
 * The decoder maps (prefix, code) to OP_* through tables built from this list; the validator takes
 * the stack effect from `sig`; names and the disassembler take "text". Later consumers (interpreter,
 * JIT) add their own columns by expanding the same list.
 */
#ifndef K23VM_OPCODES_H
#define K23VM_OPCODES_H

#include <stdint.h>

#include "module.h"

typedef enum imm_kind {
    IMM_none,
    IMM_block,       /* blocktype (s33): block, loop, if */
    IMM_label,       /* br, br_if */
    IMM_br_table,    /* vec(label) label */
    IMM_func,        /* call, ref.func */
    IMM_call_ind,    /* call_indirect: typeidx tableidx */
    IMM_local,
    IMM_global,
    IMM_table,       /* table.get/set/size/grow/fill */
    IMM_memarg,      /* align offset */
    IMM_mem,         /* memory.size/grow: a zero byte (memidx in later versions) */
    IMM_i32,
    IMM_i64,
    IMM_f32,
    IMM_f64,
    IMM_v128,        /* 16 bytes */
    IMM_shuffle,     /* 16 lane indices */
    IMM_lane,        /* one lane index byte */
    IMM_memarg_lane, /* memarg then lane index */
    IMM_select_t,    /* vec(valtype) */
    IMM_reftype,     /* ref.null */
    IMM_mem_init,    /* dataidx, memidx */
    IMM_data,        /* data.drop */
    IMM_mem_copy,    /* memidx, memidx */
    IMM_mem_fill,    /* memidx */
    IMM_table_init,  /* elemidx, tableidx */
    IMM_elem,        /* elem.drop */
    IMM_table_copy,  /* tableidx, tableidx */
} imm_kind;

typedef enum opcode {
#define OP(name, prefix, code, text, imm, sig, aux) OP_##name,
#include "opcodes.def"
#undef OP
    OP_COUNT_
} opcode;

typedef enum sig_id {
#define SIG(name, ...) SIG_##name,
#define OP(...)
#include "opcodes.def"
#undef OP
#undef SIG
    SIG_COUNT_
} sig_id;

typedef struct opinfo {
    const char *text;
    uint16_t prefix;
    uint32_t code;
    uint8_t imm;  /* imm_kind */
    uint8_t sig;  /* sig_id */
    uint8_t aux;
} opinfo;

extern const opinfo op_info[OP_COUNT_];

#endif
