/* insn.h - reading one instruction (opcode and immediates) from a function body or constant
 * expression (spec 5.4). This is the only place that decodes instruction bytes: the validator reads
 * through it and hands the result on to its sink (validate.h), so no later stage decodes again.
 * It checks the binary format only (malformed input); typing is the validator's. */
#ifndef K23VM_INSN_H
#define K23VM_INSN_H

#include "opcodes.h"
#include "reader.h"

typedef struct insn {
    uint16_t op;     /* opcode */
    uint32_t offset; /* of the opcode's first byte, from the module start */
    union {
        int64_t blocktype;  /* IMM_block: -64 (0x40) empty, a negative valtype encoding, or a typeidx >= 0 */
        uint32_t index;     /* label, func, local, global, table, data, elem */
        struct {
            uint32_t type, table;
        } call_ind;
        struct {
            uint32_t align; /* log2, as encoded */
            uint32_t mem;
            uint64_t offset;
            uint8_t lane; /* IMM_memarg_lane */
        } mem;
        struct {
            uint32_t count;       /* labels before the default */
            uint32_t labels_off;  /* module offset of the first label LEB, to read them again:
                                   * count u32 LEBs, known to be well-formed, then the default */
            uint32_t deflt;       /* the default label */
        } br_table;
        struct {
            uint32_t count; /* 0 for plain `select` (0x1B) */
            valtype type;   /* the single type when count == 1 */
        } select;
        struct {
            uint32_t a, b;  /* mem_init: data, mem; table_init: elem, table; copies: dst, src */
        } pair;
        valtype reftype;
        int32_t i32;
        int64_t i64;
        uint32_t f32;   /* bits */
        uint64_t f64;   /* bits */
        uint8_t v128[16]; /* also the shuffle lanes */
        uint8_t lane;
    } u;
} insn;

/* blocktype encodings kept in insn.u.blocktype (5.4.1): the single bytes 0x40 and valtype are
 * negative s33 values; a type index is >= 0. */
#define INSN_BLOCK_EMPTY_BYTE 0x40
#define INSN_BLOCK_EMPTY ((int64_t)INSN_BLOCK_EMPTY_BYTE - 0x80) /* -64 */
/* The value type of a single-valtype block type (blocktype < 0 and not INSN_BLOCK_EMPTY). */
static inline valtype insn_block_valtype(int64_t bt) { return (valtype)(bt + 0x80); }

/* Reads one instruction at r->p. On failure returns false with r->err set ("illegal opcode",
 * "integer too large", "unexpected end", "malformed reference type", ...). */
bool insn_read(reader *r, insn *out);

/* A reader over the labels of a br_table that insn_read decoded from the module bytes
 * [bytes, bytes + size): `count` rd_u32 calls give the labels, one more the default. They were
 * read once already, so these calls cannot fail. */
K23VM_INLINE reader insn_br_table_labels(const uint8_t *bytes, size_t size, const insn *in)
{
    reader r;
    rd_init(&r, bytes, size);
    r.p = bytes + in->u.br_table.labels_off;
    return r;
}

/* How insn_read_fast takes an immediate kind: not at all (0), as a one-byte u32 index into
 * u.index (1), a one-byte s32 into u.i32 (2), a memarg of two one-byte LEBs (3), a one-byte
 * block type (4). */
extern const uint8_t insn_fast_imm[];
/* Bytes that are a value type, or 0x40 (the empty block type), as one-byte block types. */
extern const uint8_t insn_blocktype_byte[256];

/* insn_read with its common cases inline, for the validator's loop: single-byte opcodes without
 * immediates or with immediates of one-byte LEBs (local.get 0, i32.const 1, br 0, i32.load
 * align=2, block with an empty type ...). Everything else, errors included, goes to insn_read. */
K23VM_INLINE bool insn_read_fast(reader *r, insn *out)
{
    const uint8_t *p = r->p;
    if (K23VM_LIKELY(r->end - p >= 3)) {
        uint32_t v = op_by_byte[p[0]];
        if (K23VM_LIKELY(v)) {
            uint8_t imm = op_info[v - 1].imm;
            out->op = (uint16_t)(v - 1);
            out->offset = (uint32_t)(p - r->base);
            if (imm == IMM_none) {
                r->p = p + 1;
                return true;
            }
            uint8_t kind = insn_fast_imm[imm], b = p[1];
            if (kind == 1 && b < 0x80) {
                out->u.index = b;
                r->p = p + 2;
                return true;
            }
            if (kind == 2 && b < 0x80) {
                out->u.i32 = (int32_t)((uint32_t)b << 25) >> 25;
                r->p = p + 2;
                return true;
            }
            if (kind == 3 && b < 32 && p[2] < 0x80) {
                out->u.mem.align = b;
                out->u.mem.mem = 0;
                out->u.mem.offset = p[2];
                out->u.mem.lane = 0;
                r->p = p + 3;
                return true;
            }
            if (kind == 4 && insn_blocktype_byte[b]) {
                out->u.blocktype = (int64_t)b - 0x80;
                r->p = p + 2;
                return true;
            }
        }
    }
    return insn_read(r, out);
}

#endif
