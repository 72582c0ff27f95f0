/* insn.c - decoding one instruction and its immediates (spec 5.4). The only reader of instruction
 * bytes: the validator calls it for function bodies and the decoder to skip over constant
 * expressions. It checks the binary format only; typing and index bounds are the validator's
 * (3.3), so everything reported here is a malformed-module error. */
#include "insn.h"

/* Single-byte value types (5.3.1 - 5.3.3), as they may appear in select's type vector and in
 * block types. */
static const uint8_t valtype_ok[256] = {
    [K23VM_I32] = 1, [K23VM_I64] = 1, [K23VM_F32] = 1, [K23VM_F64] = 1,
    [K23VM_V128] = 1, [K23VM_FUNCREF] = 1, [K23VM_EXTERNREF] = 1,
};
const uint8_t insn_blocktype_byte[256] = {
    [K23VM_I32] = 1, [K23VM_I64] = 1, [K23VM_F32] = 1, [K23VM_F64] = 1,
    [K23VM_V128] = 1, [K23VM_FUNCREF] = 1, [K23VM_EXTERNREF] = 1, [INSN_BLOCK_EMPTY_BYTE] = 1,
};

const uint8_t insn_fast_imm[] = {
    [IMM_label] = 1, [IMM_func] = 1, [IMM_local] = 1, [IMM_global] = 1, [IMM_i32] = 2, [IMM_memarg] = 3,
    [IMM_block] = 4, [IMM_table_copy] = 0, /* sized to the last imm_kind */
};
_Static_assert(IMM_table_copy + 1 == sizeof insn_fast_imm, "insn_fast_imm covers every imm_kind");

/* A reserved byte that must be 0x00 (memory.size/grow, memory.init/copy/fill: 5.4.6). It is a
 * byte, not a LEB128 zero: "\80\00" is malformed (binary.wast). */
K23VM_INLINE bool zero_byte(reader *r)
{
    const uint8_t *at = r->p;
    uint8_t b = 0;
    if (!rd_u8(r, &b)) return false;
    if (b != 0) return rd_fail_at(r, at, "zero byte expected");
    return true;
}

/* memarg (5.4.6): align and offset, both u32. An alignment exponent of 32 or more cannot be a
 * 2.0 alignment at all; the reference interpreter rejects it as malformed (align.wast), while
 * smaller exponents above the natural alignment are a validation error. */
K23VM_INLINE bool memarg(reader *r, insn *out)
{
    const uint8_t *at = r->p;
    uint32_t align = 0, off = 0;
    if (!rd_u32(r, &align)) return false;
    if (align >= 32) return rd_fail_at(r, at, "malformed memop flags");
    if (!rd_u32(r, &off)) return false;
    out->u.mem.align = align;
    out->u.mem.mem = 0;
    out->u.mem.offset = off;
    out->u.mem.lane = 0;
    return true;
}

/* blocktype (5.4.1): 0x40, a single-byte value type, or a type index as a non-negative s33. The
 * first two are single negative s33 bytes, which is how insn.blocktype keeps them. */
K23VM_INLINE bool blocktype(reader *r, insn *out)
{
    const uint8_t *at = r->p;
    if (K23VM_LIKELY(r->p < r->end)) {
        uint8_t b = *r->p;
        if (b == INSN_BLOCK_EMPTY_BYTE || valtype_ok[b]) {
            r->p++;
            out->u.blocktype = (int64_t)b - 0x80;
            return true;
        }
        if ((b & 0xC0) == 0x40) return rd_fail_at(r, at, "malformed value type");
    }
    int64_t x = 0;
    if (!rd_s33(r, &x)) return false;
    if (x < 0) return rd_fail_at(r, at, "malformed block type");
    out->u.blocktype = x;
    return true;
}

/* Typed select (5.4.3): vec(valtype). Validation requires exactly one type ("invalid result
 * arity"); the bytes must be value types whatever the count. */
static bool select_types(reader *r, insn *out)
{
    uint32_t n = 0;
    if (!rd_u32(r, &n)) return false;
    out->u.select.count = n;
    out->u.select.type = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        uint8_t b = 0;
        if (!rd_u8(r, &b)) return false;
        if (!valtype_ok[b]) return rd_fail_at(r, at, "malformed value type");
        if (i == 0) out->u.select.type = b;
    }
    return true;
}

/* br_table (5.4.1): vec(labelidx) labelidx. The labels are skipped here and re-read from
 * labels_off by whoever needs them, so that no instruction carries a variable-size payload. Each
 * label takes at least one byte, so a hostile count only runs into "unexpected end". */
static bool br_table(reader *r, insn *out)
{
    uint32_t n = 0, l = 0;
    if (!rd_u32(r, &n)) return false;
    out->u.br_table.count = n;
    out->u.br_table.labels_off = (uint32_t)rd_offset(r, r->p);
    for (uint32_t i = 0; i < n; i++)
        if (!rd_u32(r, &l)) return false;
    return rd_u32(r, &out->u.br_table.deflt);
}

bool insn_read(reader *r, insn *out)
{
    const uint8_t *start = r->p;
    uint8_t b = 0;
    if (!rd_u8(r, &b)) return false;
    out->offset = (uint32_t)rd_offset(r, start);
    uint32_t v = op_by_byte[b];
    if (K23VM_UNLIKELY(!v)) {
        uint32_t code = 0;
        if (b == OP_PREFIX_MISC) {
            if (!rd_u32(r, &code)) return false;
            v = code < OP_FC_COUNT ? op_by_fc[code] : 0;
        } else if (b == OP_PREFIX_SIMD) {
            if (!rd_u32(r, &code)) return false;
            v = code < 256 ? op_by_fd[code] : 0;
        }
        if (!v) return rd_fail_at(r, start, "illegal opcode");
    }
    opcode op = (opcode)(v - 1);
    out->op = (uint16_t)op;

    const uint8_t *at = r->p;
    switch ((imm_kind)op_info[op].imm) {
    case IMM_none:
        return true;
    case IMM_block:
        return blocktype(r, out);
    case IMM_label:
    case IMM_func:
    case IMM_local:
    case IMM_global:
    case IMM_table:
    case IMM_data:
    case IMM_elem:
        return rd_u32(r, &out->u.index);
    case IMM_br_table:
        return br_table(r, out);
    case IMM_call_ind:
        return rd_u32(r, &out->u.call_ind.type) && rd_u32(r, &out->u.call_ind.table);
    case IMM_memarg:
        return memarg(r, out);
    case IMM_memarg_lane:
        return memarg(r, out) && rd_u8(r, &out->u.mem.lane);
    case IMM_mem:
        out->u.index = 0;
        return zero_byte(r);
    case IMM_i32:
        return rd_s32(r, &out->u.i32);
    case IMM_i64:
        return rd_s64(r, &out->u.i64);
    case IMM_f32:
        return rd_f32(r, &out->u.f32);
    case IMM_f64:
        return rd_f64(r, &out->u.f64);
    case IMM_v128:
    case IMM_shuffle: {
        const uint8_t *p = NULL;
        if (!rd_bytes(r, 16, &p)) return false;
        memcpy(out->u.v128, p, 16);
        return true;
    }
    case IMM_lane:
        return rd_u8(r, &out->u.lane);
    case IMM_select_t:
        return select_types(r, out);
    case IMM_reftype: {
        uint8_t t = 0;
        if (!rd_u8(r, &t)) return false;
        if (t != K23VM_FUNCREF && t != K23VM_EXTERNREF) return rd_fail_at(r, at, "malformed reference type");
        out->u.reftype = t;
        return true;
    }
    case IMM_mem_init:
        out->u.pair.b = 0;
        return rd_u32(r, &out->u.pair.a) && zero_byte(r);
    case IMM_mem_copy:
        out->u.pair.a = out->u.pair.b = 0;
        return zero_byte(r) && zero_byte(r);
    case IMM_mem_fill:
        out->u.index = 0;
        return zero_byte(r);
    case IMM_table_init:
    case IMM_table_copy:
        return rd_u32(r, &out->u.pair.a) && rd_u32(r, &out->u.pair.b);
    }
    return rd_fail_at(r, start, "illegal opcode"); /* unreachable: every imm_kind is handled */
}
