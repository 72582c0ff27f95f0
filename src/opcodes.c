/* opcodes.c - the tables expanded from opcodes.def: per-opcode facts (op_info), fixed signatures
 * (sig_info) and the decode tables from (prefix, code) to opcode that insn_read uses (spec 5.4). */
#include "opcodes.h"

/* The type tokens of opcodes.def's SIG list. */
#define T_none 0
#define T_i32 K23VM_I32
#define T_i64 K23VM_I64
#define T_f32 K23VM_F32
#define T_f64 K23VM_F64
#define T_v128 K23VM_V128

/* Zero-initialised insn and opinfo fields mean "typed by hand"; the validator relies on it. */
_Static_assert(SIG_special == 0, "SIG_special must be the first signature");
_Static_assert(OP_COUNT_ < 0xFFFF, "opcodes must fit the uint16_t decode tables");
_Static_assert(SIG_COUNT_ <= 256, "signatures must fit opinfo.sig");
/* Consumers test `prefix` against these and take `code` as the sub-opcode. */
_Static_assert(OP_i32_trunc_sat_f32_s + 8 == OP_memory_init, "0xFC opcodes out of order");
_Static_assert(OP_table_fill - OP_i32_trunc_sat_f32_s + 1 == OP_FC_COUNT, "0xFC table size");

const opinfo op_info[OP_COUNT_] = {
#define OP(name, prefix, code, text, imm, sig, aux) {text, prefix, code, IMM_##imm, SIG_##sig, aux},
#include "opcodes.def"
};

#define SIG_NP_(a, b, c) ((T_##a != 0) + (T_##b != 0) + (T_##c != 0))
const siginfo sig_info[SIG_COUNT_] = {
#define SIG(name, r, p1, p2, p3) {SIG_NP_(p1, p2, p3), {T_##p1, T_##p2, T_##p3}, T_##r},
#include "opcodes.def"
};

/* Designated initialisers: a (prefix, code) listed twice in opcodes.def trips -Woverride-init
 * (part of -Wextra, an error under -Werror), so the decode tables cannot silently shadow an
 * opcode. Entries not listed stay 0 = illegal. */
#define PFX_0(name, code) [code] = OP_##name + 1,
#define PFX_0xFC(name, code)
#define PFX_0xFD(name, code)
const uint16_t op_by_byte[256] = {
#define OP(name, prefix, code, text, imm, sig, aux) PFX_##prefix(name, code)
#include "opcodes.def"
};
#undef PFX_0
#undef PFX_0xFC
#undef PFX_0xFD

#define PFX_0(name, code)
#define PFX_0xFC(name, code) [code] = OP_##name + 1,
#define PFX_0xFD(name, code)
const uint16_t op_by_fc[OP_FC_COUNT] = {
#define OP(name, prefix, code, text, imm, sig, aux) PFX_##prefix(name, code)
#include "opcodes.def"
};
#undef PFX_0
#undef PFX_0xFC
#undef PFX_0xFD

#define PFX_0(name, code)
#define PFX_0xFC(name, code)
#define PFX_0xFD(name, code) [code] = OP_##name + 1,
const uint16_t op_by_fd[256] = {
#define OP(name, prefix, code, text, imm, sig, aux) PFX_##prefix(name, code)
#include "opcodes.def"
};
