/* test_validate.c - cmocka tests of the opcode table (src/opcodes.def), instruction decoding
 * (src/insn.c) and validation (src/validate.c). Modules are built by hand as k23vm_module structs
 * around small byte arrays, so these tests need neither the decoder nor wat2wasm: each states one
 * rule of spec section 3 (or 5.4) and the exact error the spec tests expect for breaking it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insn.h"
#include "validate.h"

/* ---- a module builder --------------------------------------------------------------------------- */

enum { I32 = K23VM_I32, I64 = K23VM_I64, F32 = K23VM_F32, F64 = K23VM_F64, V128 = K23VM_V128,
       FREF = K23VM_FUNCREF, XREF = K23VM_EXTERNREF };

typedef struct tb {
    k23vm_module m;
    uint8_t bytes[8192];
    size_t len;
    functype types[16];
    valtype tv[128];
    size_t ntv;
    func funcs[16];
    uint32_t func_typeidx[16];
    localrun runs[16][4];
    tabletype tables[4];
    memtype mems[4];
    globaltype globaltypes[8];
    global globals[8];
    export exports[8];
    elemseg elems[4];
    dataseg datas[4];
} tb;

static tb *tb_new(void)
{
    tb *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->m.plat = k23vm_platform_default();
    arena_init(&t->m.arena, t->m.plat);
    t->m.bytes = t->bytes;
    t->m.types = t->types;
    t->m.func_typeidx = t->func_typeidx;
    t->m.funcs = t->funcs;
    t->m.tables = t->tables;
    t->m.mems = t->mems;
    t->m.globaltypes = t->globaltypes;
    t->m.globals = t->globals;
    t->m.exports = t->exports;
    t->m.elems = t->elems;
    t->m.datas = t->datas;
    t->len = 8; /* pretend header, so that no offset is 0 */
    t->m.size = t->len;
    return t;
}

static void tb_free(tb *t)
{
    arena_free(&t->m.arena);
    free(t);
}

static uint32_t tb_bytes(tb *t, const uint8_t *b, size_t n)
{
    assert_true(t->len + n <= sizeof t->bytes);
    uint32_t at = (uint32_t)t->len;
    memcpy(t->bytes + t->len, b, n);
    t->len += n;
    t->m.size = t->len;
    return at;
}

static const valtype *tb_vt(tb *t, const char *s, uint32_t *n)
{
    valtype *p = t->tv + t->ntv;
    *n = 0;
    for (; *s; s++, (*n)++) {
        static const char letters[] = "ilfdvrx";
        static const valtype map[] = {I32, I64, F32, F64, V128, FREF, XREF};
        p[*n] = map[strchr(letters, *s) - letters];
    }
    t->ntv += *n;
    return p;
}

/* A function type from letters i l f d v r(funcref) x(externref). */
static uint32_t tb_type(tb *t, const char *params, const char *results)
{
    functype *ft = &t->types[t->m.ntypes];
    ft->params = tb_vt(t, params, &ft->nparams);
    ft->results = tb_vt(t, results, &ft->nresults);
    return t->m.ntypes++;
}

/* A defined function; body without local declarations, must end with its `end`. */
static uint32_t tb_func_locals(tb *t, uint32_t type, const localrun *runs, uint32_t nruns, const uint8_t *body,
                               size_t n)
{
    uint32_t i = t->m.nfuncs - t->m.nfunc_imports;
    func *f = &t->funcs[i];
    f->typeidx = type;
    if (nruns) memcpy(t->runs[i], runs, nruns * sizeof *runs);
    f->runs = t->runs[i];
    f->nruns = nruns;
    for (uint32_t k = 0; k < nruns; k++) f->nlocals += runs[k].count;
    f->body_start = tb_bytes(t, body, n);
    f->body_end = (uint32_t)t->len;
    t->func_typeidx[t->m.nfuncs] = type;
    return t->m.nfuncs++;
}

static uint32_t tb_func(tb *t, uint32_t type, const uint8_t *body, size_t n)
{
    return tb_func_locals(t, type, NULL, 0, body, n);
}

#define FUNC(t, type, ...)                                     \
    do {                                                       \
        static const uint8_t body_[] = {__VA_ARGS__};          \
        tb_func((t), (type), body_, sizeof body_);             \
    } while (0)

static void tb_memory(tb *t, uint64_t min)
{
    t->mems[t->m.nmems].lim.min = min;
    t->m.nmems++;
}

static void tb_table(tb *t, valtype elem, uint64_t min)
{
    t->tables[t->m.ntables].elem = elem;
    t->tables[t->m.ntables].lim.min = min;
    t->m.ntables++;
}

static constexpr tb_expr(tb *t, const uint8_t *b, size_t n)
{
    constexpr e;
    e.start = tb_bytes(t, b, n);
    e.end = (uint32_t)t->len;
    return e;
}

/* An imported global (no initialiser). Imports must come before defined globals. */
static void tb_global_import(tb *t, valtype type, bool mut)
{
    t->globaltypes[t->m.nglobals].type = type;
    t->globaltypes[t->m.nglobals].mut = mut;
    t->m.nglobals++;
    t->m.nglobal_imports++;
}

static void tb_global(tb *t, valtype type, bool mut, const uint8_t *init, size_t n)
{
    global *g = &t->globals[t->m.nglobals - t->m.nglobal_imports];
    g->type.type = type;
    g->type.mut = mut;
    g->init = tb_expr(t, init, n);
    t->globaltypes[t->m.nglobals] = g->type;
    t->m.nglobals++;
}

static void tb_export(tb *t, const char *name, uint8_t kind, uint32_t index)
{
    export *e = &t->exports[t->m.nexports++];
    e->name.ptr = name;
    e->name.len = (uint32_t)strlen(name);
    e->kind = kind;
    e->index = index;
}

/* Validates and checks the outcome: kind 0 for success, else the kind and message prefix. */
static void expect(tb *t, int kind, const char *prefix)
{
    k23vm_error *err = validate_module(&t->m);
    if (!kind) {
        if (err) fail_msg("expected valid, got \"%s\" at %zu", k23vm_error_message(err), k23vm_error_offset(err));
    } else {
        if (!err) fail_msg("expected \"%s\", got valid", prefix);
        const char *msg = k23vm_error_message(err);
        if ((int)k23vm_error_kind_of(err) != kind || strncmp(msg, prefix, strlen(prefix)) != 0)
            fail_msg("expected kind %d \"%s\", got kind %d \"%s\"", kind, prefix, (int)k23vm_error_kind_of(err), msg);
        k23vm_error_delete(err);
    }
    tb_free(t);
}

#define VALID 0
#define INV K23VM_ERROR_INVALID
#define MAL K23VM_ERROR_MALFORMED

/* Opcode bytes used below, spelled as in the text format. */
enum {
    UNREACHABLE = 0x00, NOP = 0x01, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0B, BR = 0x0C,
    BR_IF = 0x0D, BR_TABLE = 0x0E, RETURN = 0x0F, CALL = 0x10, CALL_INDIRECT = 0x11, DROP = 0x1A,
    SELECT = 0x1B, SELECT_T = 0x1C, LOCAL_GET = 0x20, LOCAL_SET = 0x21, GLOBAL_GET = 0x23, GLOBAL_SET = 0x24,
    I32_LOAD = 0x28, I64_LOAD = 0x29, MEMORY_SIZE = 0x3F, I32_CONST = 0x41, I64_CONST = 0x42,
    F32_CONST = 0x43, I32_ADD = 0x6A, REF_NULL = 0xD0, REF_IS_NULL = 0xD1, REF_FUNC = 0xD2, PFX_FC = 0xFC,
    PFX_FD = 0xFD, EMPTY = 0x40,
};

/* ---- the opcode table --------------------------------------------------------------------------- */

static void opcode_table_sorted_and_decodable(void **state)
{
    (void)state;
    for (int i = 0; i < OP_COUNT_; i++) {
        const opinfo *o = &op_info[i];
        assert_int_equal(op_lookup(o->prefix, o->code), i);
        if (i > 0) {
            const opinfo *p = &op_info[i - 1];
            uint64_t a = (uint64_t)p->prefix << 32 | p->code, b = (uint64_t)o->prefix << 32 | o->code;
            if (a >= b) fail_msg("opcodes.def out of order at %s", o->text);
        }
        /* Memory accesses carry their natural alignment, lane instructions their lane count. */
        if (o->imm == IMM_memarg || o->imm == IMM_memarg_lane) assert_true(o->aux <= 4);
        if (o->imm == IMM_lane) assert_true(o->aux == 2 || o->aux == 4 || o->aux == 8 || o->aux == 16);
    }
    /* 2.0 has 437 instructions including block/loop/if/else/end. */
    assert_int_equal(OP_COUNT_, 437);
    assert_int_equal(op_lookup(0, 0x06), OP_COUNT_);
    assert_int_equal(op_lookup(0xFC, 18), OP_COUNT_);
    assert_int_equal(op_lookup(0xFD, 0x9A), OP_COUNT_);
    assert_int_equal(op_lookup(0xFD, 0x100), OP_COUNT_);
    assert_int_equal(op_lookup(0xFD, 0xBA), OP_i32x4_dot_i16x8_s);
    assert_int_equal(op_lookup(0xFC, 17), OP_table_fill);
    const siginfo *s = &sig_info[op_info[OP_v128_bitselect].sig];
    assert_int_equal(s->nparams, 3);
    assert_int_equal(s->result, V128);
    s = &sig_info[op_info[OP_i64_store32].sig];
    assert_int_equal(s->nparams, 2);
    assert_int_equal(s->params[0], I32);
    assert_int_equal(s->params[1], I64);
    assert_int_equal(s->result, 0);
}

/* ---- insn_read ---------------------------------------------------------------------------------- */

static void read_one(const uint8_t *b, size_t n, bool ok, const char *err, insn *out)
{
    reader r;
    rd_init(&r, b, n);
    insn tmp;
    bool got = insn_read(&r, out ? out : &tmp);
    if (got != ok) fail_msg("insn_read: expected %s, got %s (%s)", ok ? "ok" : err, got ? "ok" : "error", r.err);
    if (!ok && err) assert_string_equal(r.err, err);
    if (!ok && !err) assert_true(strncmp(r.err, "unexpected end", 14) == 0);
}

static void insn_immediates(void **state)
{
    (void)state;
    insn in;
    read_one((const uint8_t[]){I32_CONST, 0x7F}, 2, true, NULL, &in);
    assert_int_equal(in.op, OP_i32_const);
    assert_int_equal(in.u.i32, -1);
    read_one((const uint8_t[]){BLOCK, 0x7E}, 2, true, NULL, &in);
    assert_true(in.u.blocktype < 0);
    assert_int_equal(insn_block_valtype(in.u.blocktype), I64);
    read_one((const uint8_t[]){BLOCK, EMPTY}, 2, true, NULL, &in);
    assert_int_equal(in.u.blocktype, INSN_BLOCK_EMPTY);
    read_one((const uint8_t[]){LOOP, 0x81, 0x01}, 3, true, NULL, &in);
    assert_int_equal(in.u.blocktype, 129);
    read_one((const uint8_t[]){BR_TABLE, 0x02, 0x00, 0x81, 0x01, 0x03}, 6, true, NULL, &in);
    assert_int_equal(in.u.br_table.count, 2);
    assert_int_equal(in.u.br_table.labels_off, 2);
    assert_int_equal(in.u.br_table.deflt, 3);
    read_one((const uint8_t[]){PFX_FD, 0x80, 0x01, 0x00, 0x00}, 5, true, NULL, &in); /* 0x80 as a LEB */
    assert_int_equal(in.op, OP_i16x8_abs);
    read_one((const uint8_t[]){PFX_FD, 0x56, 0x02, 0x10, 0x03}, 5, true, NULL, &in);
    assert_int_equal(in.op, OP_v128_load32_lane);
    assert_int_equal(in.u.mem.align, 2);
    assert_int_equal(in.u.mem.offset, 16);
    assert_int_equal(in.u.mem.lane, 3);
    read_one((const uint8_t[]){SELECT_T, 0x01, 0x70}, 3, true, NULL, &in);
    assert_int_equal(in.u.select.count, 1);
    assert_int_equal(in.u.select.type, FREF);
}

static void insn_malformed(void **state)
{
    (void)state;
    read_one((const uint8_t[]){0x06}, 1, false, "illegal opcode", NULL);
    read_one((const uint8_t[]){0xFF}, 1, false, "illegal opcode", NULL);
    read_one((const uint8_t[]){PFX_FC, 18}, 2, false, "illegal opcode", NULL);
    read_one((const uint8_t[]){PFX_FD, 0x9A, 0x01}, 3, false, "illegal opcode", NULL);
    read_one((const uint8_t[]){MEMORY_SIZE, 0x01}, 2, false, "zero byte expected", NULL);
    read_one((const uint8_t[]){MEMORY_SIZE, 0x80, 0x00}, 3, false, "zero byte expected", NULL);
    read_one((const uint8_t[]){REF_NULL, 0x7F}, 2, false, "malformed reference type", NULL);
    read_one((const uint8_t[]){I32_LOAD, 0x20, 0x00}, 3, false, "malformed memop flags", NULL);
    read_one((const uint8_t[]){I32_CONST, 0xFF, 0xFF, 0xFF, 0xFF, 0x4F}, 6, false, "integer too large", NULL);
    read_one((const uint8_t[]){I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 7, false,
             "integer representation too long", NULL);
    read_one((const uint8_t[]){I64_CONST}, 1, false, NULL, NULL);
    read_one((const uint8_t[]){SELECT_T, 0x01, 0x40}, 3, false, "malformed value type", NULL);
}

/* ---- function bodies ---------------------------------------------------------------------------- */

static void body_basic(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "ii", "i");
    FUNC(t, ty, LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, END);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "", "i");
    FUNC(t, ty, I64_CONST, 0, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* too many results */
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* pop from an empty block */
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, BLOCK, EMPTY, DROP, END, DROP, END);
    expect(t, INV, "type mismatch");

    t = tb_new();
    ty = tb_type(t, "i", "");
    FUNC(t, ty, LOCAL_GET, 1, DROP, END);
    expect(t, INV, "unknown local");
}

/* After unreachable, br, return: the stack is polymorphic (appendix, "unreachable"). */
static void body_unreachable(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "", "i");
    FUNC(t, ty, UNREACHABLE, I32_ADD, END);
    expect(t, VALID, NULL);

    t = tb_new(); /* Unknown still meets concrete types above it */
    ty = tb_type(t, "", "i");
    FUNC(t, ty, UNREACHABLE, I64_CONST, 0, I32_ADD, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* select of two Unknowns yields Unknown, which an i64 result accepts */
    ty = tb_type(t, "", "l");
    FUNC(t, ty, UNREACHABLE, SELECT, END);
    expect(t, VALID, NULL);

    t = tb_new(); /* but not more values than the block's results */
    ty = tb_type(t, "", "");
    FUNC(t, ty, UNREACHABLE, I32_CONST, 0, END);
    expect(t, INV, "type mismatch");
}

static void body_blocks_and_branches(void **state)
{
    (void)state;
    tb *t = tb_new(); /* multi-value block with a type index: (i32 i32) -> i32 */
    uint32_t ty = tb_type(t, "", "i");
    assert_int_equal(tb_type(t, "ii", "i"), 1);
    FUNC(t, ty, I32_CONST, 1, I32_CONST, 2, BLOCK, 1, I32_ADD, END, END);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, 9, END, END);
    expect(t, INV, "unknown type");

    t = tb_new(); /* a loop's label takes its parameters */
    ty = tb_type(t, "", "i");
    assert_int_equal(tb_type(t, "i", "i"), 1);
    FUNC(t, ty, I32_CONST, 1, LOOP, 1, BR, 0, END, END);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, EMPTY, BR, 2, END, END);
    expect(t, INV, "unknown label");

    t = tb_new(); /* if without else must map params to results */
    ty = tb_type(t, "", "i");
    FUNC(t, ty, I32_CONST, 1, IF, I32, I32_CONST, 1, END, END);
    expect(t, INV, "type mismatch");

    t = tb_new();
    ty = tb_type(t, "", "i");
    FUNC(t, ty, I32_CONST, 1, IF, I32, I32_CONST, 1, ELSE, I32_CONST, 2, END, END);
    expect(t, VALID, NULL);

    t = tb_new(); /* br_table: all labels need the default's arity... */
    ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, I32, BLOCK, EMPTY, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, I32_CONST, 0, END, DROP, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* ...and in dead code, labels of different types may share an Unknown operand */
    ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, F32, BLOCK, I32, UNREACHABLE, BR_TABLE, 1, 0, 1, END, DROP, F32_CONST, 0, 0, 0, 0, END,
         DROP, END);
    expect(t, VALID, NULL);

    t = tb_new(); /* br_if passes its operands through */
    ty = tb_type(t, "", "i");
    FUNC(t, ty, BLOCK, I32, I32_CONST, 7, I32_CONST, 1, BR_IF, 0, END, END);
    expect(t, VALID, NULL);
}

static void body_select(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "", "");
    FUNC(t, ty, REF_NULL, 0x70, REF_NULL, 0x70, I32_CONST, 1, SELECT, DROP, END);
    expect(t, INV, "type mismatch");

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, REF_NULL, 0x70, REF_NULL, 0x70, I32_CONST, 1, SELECT_T, 1, 0x70, DROP, END);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, I32_CONST, 0, I32_CONST, 1, SELECT_T, 2, I32, I32, DROP, END);
    expect(t, INV, "invalid result arity");

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, I32_CONST, 0, I32_CONST, 1, SELECT_T, 0, DROP, END);
    expect(t, INV, "invalid result arity");
}

static void body_memory_and_simd(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, I32_LOAD, 2, 0, DROP, END);
    expect(t, INV, "unknown memory");

    t = tb_new();
    ty = tb_type(t, "", "");
    tb_memory(t, 1);
    FUNC(t, ty, I32_CONST, 0, I32_LOAD, 3, 0, DROP, END);
    expect(t, INV, "alignment must not be larger than natural");

    t = tb_new();
    ty = tb_type(t, "", "");
    tb_memory(t, 1);
    FUNC(t, ty, I32_CONST, 0, I64_LOAD, 3, 0, DROP, END);
    expect(t, VALID, NULL);

    t = tb_new(); /* i32x4.extract_lane 4 */
    ty = tb_type(t, "v", "i");
    FUNC(t, ty, LOCAL_GET, 0, PFX_FD, 0x1B, 4, END);
    expect(t, INV, "invalid lane index");

    t = tb_new(); /* i8x16.shuffle with a lane index of 32 */
    ty = tb_type(t, "v", "v");
    FUNC(t, ty, LOCAL_GET, 0, LOCAL_GET, 0, PFX_FD, 0x0D, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 32, END);
    expect(t, INV, "invalid lane index");

    t = tb_new(); /* v128.load64_lane: 2 lanes */
    ty = tb_type(t, "v", "v");
    tb_memory(t, 1);
    FUNC(t, ty, I32_CONST, 0, LOCAL_GET, 0, PFX_FD, 0x57, 3, 0, 1, END);
    expect(t, VALID, NULL);
    t = tb_new();
    ty = tb_type(t, "v", "v");
    tb_memory(t, 1);
    FUNC(t, ty, I32_CONST, 0, LOCAL_GET, 0, PFX_FD, 0x57, 3, 0, 2, END);
    expect(t, INV, "invalid lane index");

    t = tb_new(); /* data.drop without a data count section: malformed (5.5.16) */
    ty = tb_type(t, "", "");
    tb_memory(t, 1);
    t->m.ndatas = 1;
    t->datas[0].mode = SEG_PASSIVE;
    FUNC(t, ty, PFX_FC, 9, 0, END);
    expect(t, MAL, "data count section required");

    t = tb_new();
    ty = tb_type(t, "", "");
    tb_memory(t, 1);
    t->m.has_datacount = true;
    FUNC(t, ty, PFX_FC, 9, 0, END);
    expect(t, INV, "unknown data segment");
}

static void body_globals_refs_tables(void **state)
{
    (void)state;
    static const uint8_t zero[] = {I32_CONST, 0, END};
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "", "");
    tb_global(t, I32, false, zero, sizeof zero);
    FUNC(t, ty, I32_CONST, 1, GLOBAL_SET, 0, END);
    expect(t, INV, "global is immutable");

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, GLOBAL_GET, 0, DROP, END);
    expect(t, INV, "unknown global");

    t = tb_new(); /* ref.func needs the function in C.refs */
    ty = tb_type(t, "", "");
    FUNC(t, ty, REF_FUNC, 0, DROP, END);
    expect(t, INV, "undeclared function reference");

    t = tb_new(); /* an export declares it */
    ty = tb_type(t, "", "");
    FUNC(t, ty, REF_FUNC, 0, DROP, END);
    tb_export(t, "f", K23VM_EXTERN_FUNC, 0);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "", "i");
    FUNC(t, ty, I32_CONST, 0, REF_IS_NULL, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* call_indirect through an externref table */
    ty = tb_type(t, "", "");
    tb_table(t, XREF, 1);
    FUNC(t, ty, I32_CONST, 0, CALL_INDIRECT, 0, 0, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* table.fill: i32 ref i32 */
    ty = tb_type(t, "", "");
    tb_table(t, XREF, 1);
    tb_table(t, FREF, 1);
    FUNC(t, ty, I32_CONST, 0, REF_NULL, 0x70, I32_CONST, 1, PFX_FC, 17, 1, END);
    expect(t, VALID, NULL);
    t = tb_new();
    ty = tb_type(t, "", "");
    tb_table(t, XREF, 1);
    tb_table(t, FREF, 1);
    FUNC(t, ty, I32_CONST, 0, REF_NULL, 0x70, I32_CONST, 1, PFX_FC, 17, 0, END);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* table.copy between tables of different element types */
    ty = tb_type(t, "", "");
    tb_table(t, XREF, 1);
    tb_table(t, FREF, 1);
    FUNC(t, ty, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, PFX_FC, 14, 0, 1, END);
    expect(t, INV, "type mismatch");

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, PFX_FC, 13, 0, END);
    expect(t, INV, "unknown elem segment");
}

/* A body declaring almost 2^32 locals costs no memory per local. */
static void body_many_locals(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "i", "d");
    localrun runs[] = {{100, I64}, {0x7FFFFFFF, F32}, {0x7FFFFF00, F64}};
    /* local.get 0xFFFFFF63 (the last one): an f64 */
    static const uint8_t body[] = {LOCAL_GET, 0xE3, 0xFE, 0xFF, 0xFF, 0x0F, END};
    tb_func_locals(t, ty, runs, 3, body, sizeof body);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "i", "f");
    static const uint8_t body2[] = {LOCAL_GET, 0xE5, 0x00, END}; /* local 101: f32 */
    tb_func_locals(t, ty, runs, 3, body2, sizeof body2);
    expect(t, VALID, NULL);

    t = tb_new();
    ty = tb_type(t, "i", "l");
    static const uint8_t body3[] = {LOCAL_GET, 0xE5, 0x00, END};
    tb_func_locals(t, ty, runs, 3, body3, sizeof body3);
    expect(t, INV, "type mismatch");
}

static void body_structure(void **state)
{
    (void)state;
    tb *t = tb_new(); /* `else` outside an `if` is malformed: the decoder wants `end` there */
    uint32_t ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, EMPTY, ELSE, END, END);
    expect(t, MAL, "END opcode expected");

    t = tb_new(); /* bytes after the final end */
    ty = tb_type(t, "", "");
    FUNC(t, ty, END, NOP);
    expect(t, MAL, "section size mismatch");

    t = tb_new(); /* no final end, and the module ends */
    ty = tb_type(t, "", "");
    FUNC(t, ty, NOP);
    expect(t, MAL, "unexpected end");

    t = tb_new(); /* an illegal opcode in a later function beats a type error in an earlier one */
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, END);
    FUNC(t, ty, 0x06, END);
    expect(t, MAL, "illegal opcode");

    t = tb_new(); /* also inside the same function, after the type error */
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_ADD, BLOCK, EMPTY, 0xFC, 0x80, 0x80, 0x80, 0x80, 0x10, END, END);
    expect(t, MAL, "integer too large");

    t = tb_new(); /* the first invalid error stands when nothing is malformed */
    ty = tb_type(t, "", "");
    FUNC(t, ty, I32_CONST, 0, END);
    FUNC(t, ty, LOCAL_GET, 5, END);
    expect(t, INV, "type mismatch");
}

/* ---- constant expressions and module rules ------------------------------------------------------ */

static void const_exprs(void **state)
{
    (void)state;
    static const uint8_t neg[] = {F32_CONST, 0, 0, 0, 0, 0x8C, END};
    tb *t = tb_new();
    tb_global(t, F32, false, neg, sizeof neg);
    expect(t, INV, "constant expression required");

    static const uint8_t two[] = {I32_CONST, 0, I32_CONST, 0, END};
    t = tb_new();
    tb_global(t, I32, false, two, sizeof two);
    expect(t, INV, "type mismatch");

    static const uint8_t none[] = {END};
    t = tb_new();
    tb_global(t, I32, false, none, sizeof none);
    expect(t, INV, "type mismatch");

    static const uint8_t get0[] = {GLOBAL_GET, 0, END};
    t = tb_new(); /* only imported globals are visible (C', 3.4.10) */
    static const uint8_t zero[] = {I32_CONST, 0, END};
    tb_global(t, I32, false, zero, sizeof zero);
    tb_global(t, I32, false, get0, sizeof get0);
    expect(t, INV, "unknown global");

    t = tb_new();
    tb_global_import(t, I32, true);
    tb_global(t, I32, false, get0, sizeof get0);
    expect(t, INV, "constant expression required");

    t = tb_new();
    tb_global_import(t, I32, false);
    tb_global(t, I32, false, get0, sizeof get0);
    expect(t, VALID, NULL);

    static const uint8_t rf[] = {REF_FUNC, 0, END};
    t = tb_new(); /* a global initialiser declares the function for ref.func in bodies */
    uint32_t ty = tb_type(t, "", "");
    FUNC(t, ty, REF_FUNC, 0, DROP, END);
    tb_global(t, FREF, false, rf, sizeof rf);
    expect(t, VALID, NULL);
}

static void module_rules(void **state)
{
    (void)state;
    tb *t = tb_new();
    tb_memory(t, 1);
    tb_memory(t, 1);
    expect(t, INV, "multiple memories");

    t = tb_new();
    tb_memory(t, 65537);
    expect(t, INV, "memory size must be at most 65536 pages (4GiB)");

    t = tb_new();
    tb_memory(t, 2);
    t->mems[0].lim.has_max = true;
    t->mems[0].lim.max = 1;
    expect(t, INV, "size minimum must not be greater than maximum");

    t = tb_new();
    uint32_t ty = tb_type(t, "i", "");
    FUNC(t, ty, END);
    t->m.has_start = true;
    t->m.start = 0;
    expect(t, INV, "start function");

    t = tb_new();
    ty = tb_type(t, "", "");
    FUNC(t, ty, END);
    tb_export(t, "a", K23VM_EXTERN_FUNC, 0);
    tb_export(t, "b", K23VM_EXTERN_FUNC, 0);
    tb_export(t, "a", K23VM_EXTERN_FUNC, 0);
    expect(t, INV, "duplicate export name");

    t = tb_new();
    tb_export(t, "g", K23VM_EXTERN_GLOBAL, 0);
    expect(t, INV, "unknown global");

    t = tb_new(); /* an active element segment must match its table's type */
    tb_table(t, XREF, 1);
    t->m.nelems = 1;
    t->elems[0].mode = SEG_ACTIVE;
    t->elems[0].type = FREF;
    static const uint8_t zero[] = {I32_CONST, 0, END};
    t->elems[0].offset = tb_expr(t, zero, sizeof zero);
    expect(t, INV, "type mismatch");

    t = tb_new(); /* a data segment needs a memory */
    t->m.ndatas = 1;
    t->datas[0].mode = SEG_ACTIVE;
    t->datas[0].offset = tb_expr(t, zero, sizeof zero);
    expect(t, INV, "unknown memory");

    /* A module-level invalid error loses against a malformed body. */
    t = tb_new();
    tb_memory(t, 1);
    tb_memory(t, 1);
    ty = tb_type(t, "", "");
    FUNC(t, ty, BLOCK, EMPTY, END);
    expect(t, MAL, "unexpected end");
}

/* ---- the sink ----------------------------------------------------------------------------------- */

typedef struct trace {
    int begins, ends, count;
    uint16_t ops[16];
    uint32_t heights[16], depths[16];
} trace;

static k23vm_error *tr_begin(void *ctx, const val_state *vs)
{
    trace *t = ctx;
    t->begins++;
    assert_int_equal(vs->depth, 1);
    assert_int_equal(vs->nlocals, 3);
    assert_non_null(vs->local_types);
    assert_int_equal(vs->local_types[2], I64);
    return NULL;
}

static k23vm_error *tr_insn(void *ctx, const insn *in, const val_state *vs)
{
    trace *t = ctx;
    if (t->count < 16) {
        t->ops[t->count] = in->op;
        t->heights[t->count] = vs->height;
        t->depths[t->count] = vs->depth;
    }
    if (in->op == OP_i32_add) {
        /* operands on top, before the effect */
        assert_true(vs->height >= 2);
        assert_int_equal(vs->stack[vs->height - 1], I32);
        assert_int_equal(vs->stack[vs->height - 2], I32);
    }
    t->count++;
    return NULL;
}

static k23vm_error *tr_end(void *ctx, const val_state *vs)
{
    trace *t = ctx;
    t->ends++;
    assert_int_equal(vs->height, 1);
    return NULL;
}

static void sink_sees_every_instruction(void **state)
{
    (void)state;
    tb *t = tb_new();
    uint32_t ty = tb_type(t, "ii", "i");
    localrun runs[] = {{1, I64}};
    static const uint8_t body[] = {BLOCK, I32, LOCAL_GET, 0, LOCAL_GET, 1, I32_ADD, END, END};
    tb_func_locals(t, ty, runs, 1, body, sizeof body);
    assert_null(validate_module(&t->m));
    assert_int_equal(t->funcs[0].max_height, 2);
    assert_int_equal(t->funcs[0].max_depth, 2);

    trace tr = {0};
    val_sink sink = {&tr, tr_begin, tr_insn, tr_end};
    assert_null(validate_func(&t->m, 0, &sink));
    assert_int_equal(tr.begins, 1);
    assert_int_equal(tr.ends, 1);
    assert_int_equal(tr.count, 6);
    static const uint16_t ops[] = {OP_block, OP_local_get, OP_local_get, OP_i32_add, OP_end, OP_end};
    static const uint32_t heights[] = {0, 0, 1, 2, 1, 1};
    static const uint32_t depths[] = {1, 2, 2, 2, 2, 1};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(tr.ops[i], ops[i]);
        assert_int_equal(tr.heights[i], heights[i]);
        assert_int_equal(tr.depths[i], depths[i]);
    }
    tb_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opcode_table_sorted_and_decodable),
        cmocka_unit_test(insn_immediates),
        cmocka_unit_test(insn_malformed),
        cmocka_unit_test(body_basic),
        cmocka_unit_test(body_unreachable),
        cmocka_unit_test(body_blocks_and_branches),
        cmocka_unit_test(body_select),
        cmocka_unit_test(body_memory_and_simd),
        cmocka_unit_test(body_globals_refs_tables),
        cmocka_unit_test(body_many_locals),
        cmocka_unit_test(body_structure),
        cmocka_unit_test(const_exprs),
        cmocka_unit_test(module_rules),
        cmocka_unit_test(sink_sees_every_instruction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
