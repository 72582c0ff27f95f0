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
 *   sig     typing: SIG_<sig>, a fixed signature from the SIG list in opcodes.def, or SIG_special
 *           when the validator types the instruction itself (control, variables, references, ...)
 *   aux     per-kind extra fact: memory accesses (memarg, memarg_lane): log2 of the natural
 *           alignment, so a *_lane access has 16 >> aux lanes; extract/replace_lane: number of
 *           lanes; i8x16.shuffle: 32, the bound of its lane indices; 0 otherwise
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

/* A fixed signature (SIG list in opcodes.def): pops params[0..nparams) (params[0] deepest),
 * pushes `result` unless it is 0. */
typedef struct siginfo {
    uint8_t nparams;
    valtype params[3];
    valtype result;
} siginfo;

extern const siginfo sig_info[SIG_COUNT_];

/* The two prefix bytes of WebAssembly 2.0 (5.4): 0xFC for saturating truncation, bulk memory and
 * tables, 0xFD for SIMD. A u32 sub-opcode follows either. */
#define OP_PREFIX_MISC 0xFCu
#define OP_PREFIX_SIMD 0xFDu

/* Decode tables, (prefix, code) -> opcode + 1; 0 marks an illegal opcode. The single-byte table
 * also maps the prefixes 0xFC and 0xFD to 0: insn_read looks at them first. */
#define OP_FC_COUNT 18u /* 0xFC sub-opcodes 0..17 */
extern const uint16_t op_by_byte[256];
extern const uint16_t op_by_fc[OP_FC_COUNT];
extern const uint16_t op_by_fd[256];

/* The opcode for (prefix, code), or OP_COUNT_ when there is none ("illegal opcode"). */
static inline opcode op_lookup(uint32_t prefix, uint32_t code)
{
    uint16_t v = 0;
    if (prefix == 0) v = code < 256 ? op_by_byte[code] : 0;
    else if (prefix == OP_PREFIX_MISC) v = code < OP_FC_COUNT ? op_by_fc[code] : 0;
    else if (prefix == OP_PREFIX_SIMD) v = code < 256 ? op_by_fd[code] : 0;
    return v ? (opcode)(v - 1) : OP_COUNT_;
}

#endif
