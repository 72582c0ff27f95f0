/* test_decode.c - cmocka tests of the binary decoder (src/decode.c, spec chapter 5): modules built
 * byte by byte, decoded with decode_module() alone (no validation), checking the fields of the
 * decoded module, the error messages the spec tests expect, the name section (7.4) and that
 * hostile sizes are refused without allocating what they claim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "engine.h"
#include "k23vm.h"

/* ---- building modules -------------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *b;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->b = realloc(b->b, b->cap);
        assert_non_null(b->b);
    }
    if (n) memcpy(b->b + b->n, p, n);
    b->n += n;
}

#define BYTES(b, ...) put((b), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void uleb(buf *b, uint64_t v)
{
    do {
        uint8_t x = v & 0x7F;
        v >>= 7;
        if (v) x |= 0x80;
        put(b, &x, 1);
    } while (v);
}

static void str(buf *b, const char *s)
{
    uleb(b, strlen(s));
    put(b, s, strlen(s));
}

static buf module(void)
{
    buf m = {0};
    BYTES(&m, 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00);
    return m;
}

/* Appends section `id` with the contents of c (then freed). */
static void section(buf *m, uint8_t id, buf *c)
{
    put(m, &id, 1);
    uleb(m, c->n);
    put(m, c->b, c->n);
    free(c->b);
    *c = (buf){0};
}

enum { S_CUSTOM, S_TYPE, S_IMPORT, S_FUNC, S_TABLE, S_MEM, S_GLOBAL, S_EXPORT, S_START, S_ELEM, S_CODE,
       S_DATA, S_DATACOUNT };

/* ---- decoding ------------------------------------------------------------------------------------ */

static k23vm_engine *engine;

static int setup(void **state)
{
    (void)state;
    return k23vm_engine_new(NULL, &engine) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    k23vm_engine_delete(engine);
    return 0;
}

/* Decodes b (which the module then borrows) with the given platform; returns the error. */
static k23vm_error *decode_with(const k23vm_platform *plat, const buf *b, k23vm_module **out)
{
    k23vm_module *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->engine = engine;
    m->plat = plat;
    arena_init(&m->arena, plat);
    m->bytes = b->b;
    m->size = b->n;
    k23vm_error *err = decode_module(m);
    if (err || !out) {
        arena_free(&m->arena);
        free(m);
        if (out) *out = NULL;
    } else {
        *out = m;
    }
    return err;
}

static k23vm_module *decode_ok(const buf *b)
{
    k23vm_module *m = NULL;
    k23vm_error *err = decode_with(&engine->plat, b, &m);
    if (err) fail_msg("decode failed: %s at %zu", k23vm_error_message(err), k23vm_error_offset(err));
    return m;
}

static void drop(k23vm_module *m, buf *b)
{
    if (m) {
        arena_free(&m->arena);
        free(m);
    }
    free(b->b);
    *b = (buf){0};
}

#define ANY_OFFSET SIZE_MAX

/* Expects a MALFORMED error whose message starts with msg (and the offset, unless ANY_OFFSET);
 * frees b. */
static void malformed_at(buf *b, const char *msg, size_t offset, int line)
{
    k23vm_error *err = decode_with(&engine->plat, b, NULL);
    if (!err) fail_msg("line %d: expected \"%s\", module was accepted", line, msg);
    const char *got = k23vm_error_message(err);
    if (k23vm_error_kind_of(err) != K23VM_ERROR_MALFORMED || strncmp(got, msg, strlen(msg)) != 0)
        fail_msg("line %d: expected malformed \"%s\", got kind %d \"%s\"", line, msg,
                 (int)k23vm_error_kind_of(err), got);
    if (offset != ANY_OFFSET && k23vm_error_offset(err) != offset)
        fail_msg("line %d: \"%s\" at %zu, expected at %zu", line, msg, k23vm_error_offset(err), offset);
    k23vm_error_delete(err);
    drop(NULL, b);
}
#define MALFORMED(b, msg) malformed_at((b), (msg), ANY_OFFSET, __LINE__)

/* Expects a RESOURCE error (an implementation limit) whose message starts with msg; frees b. */
static void limit_exceeded(buf *b, const char *msg, int line)
{
    k23vm_error *err = decode_with(&engine->plat, b, NULL);
    if (!err) fail_msg("line %d: expected \"%s\", module was accepted", line, msg);
    const char *got = k23vm_error_message(err);
    if (k23vm_error_kind_of(err) != K23VM_ERROR_RESOURCE || strncmp(got, msg, strlen(msg)) != 0)
        fail_msg("line %d: expected resource error \"%s\", got kind %d \"%s\"", line, msg,
                 (int)k23vm_error_kind_of(err), got);
    k23vm_error_delete(err);
    drop(NULL, b);
}
#define MALFORMED_AT(b, msg, off) malformed_at((b), (msg), (off), __LINE__)

/* ---- preamble and section structure ------------------------------------------------------------ */

static void preamble(void **state)
{
    (void)state;
    buf b = {0};
    MALFORMED(&b, "unexpected end");
    BYTES(&b, 0x01);
    MALFORMED(&b, "unexpected end"); /* too short for the magic word, whatever it holds */
    BYTES(&b, 0x00, 0x61, 0x73);
    MALFORMED(&b, "unexpected end");
    BYTES(&b, 0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00);
    MALFORMED_AT(&b, "magic header not detected", 0);
    BYTES(&b, 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00);
    MALFORMED(&b, "unexpected end");
    BYTES(&b, 0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00);
    MALFORMED_AT(&b, "unknown binary version", 4);

    b = module();
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->ntypes, 0);
    assert_int_equal(m->nfuncs, 0);
    assert_false(m->has_start);
    drop(m, &b);
}

static void section_order(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&b, 0x0D, 0x00); /* id 13 does not exist */
    MALFORMED_AT(&b, "malformed section id", 8);
    b = module();
    BYTES(&b, 0x80, 0x00);
    MALFORMED(&b, "malformed section id");

    /* Function section before the type section. */
    b = module();
    BYTES(&c, 0x00);
    section(&b, S_FUNC, &c);
    BYTES(&c, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED_AT(&b, "unexpected content after last section", 11);

    /* A section twice. */
    b = module();
    BYTES(&c, 0x00);
    section(&b, S_TYPE, &c);
    BYTES(&c, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED(&b, "unexpected content after last section");

    /* The data count section goes between element and code sections. */
    b = module();
    BYTES(&c, 0x00);
    section(&b, S_CODE, &c);
    BYTES(&c, 0x00);
    section(&b, S_DATACOUNT, &c);
    MALFORMED(&b, "unexpected content after last section");

    /* Every known section in order, with custom sections anywhere. */
    b = module();
    static const uint8_t order[] = {S_TYPE, S_IMPORT, S_FUNC,  S_TABLE, S_MEM,  S_GLOBAL,
                                    S_EXPORT, S_ELEM, S_DATACOUNT, S_CODE, S_DATA};
    for (size_t i = 0; i < sizeof order; i++) {
        str(&c, "x");
        section(&b, S_CUSTOM, &c);
        BYTES(&c, 0x00);
        section(&b, order[i], &c);
    }
    str(&c, "");
    section(&b, S_CUSTOM, &c);
    k23vm_module *m = decode_ok(&b);
    assert_true(m->has_datacount);
    assert_int_equal(m->datacount, 0);
    drop(m, &b);
}

static void section_sizes(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    /* Declared size larger than the rest of the module. */
    BYTES(&b, S_TYPE, 0x10, 0x00);
    MALFORMED_AT(&b, "length out of bounds", 9);
    /* A section size of 2^32-1. */
    b = module();
    BYTES(&b, S_TYPE, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00);
    MALFORMED(&b, "length out of bounds");
    /* Contents longer and shorter than declared. */
    b = module();
    BYTES(&b, S_TYPE, 0x02, 0x01, 0x60, 0x00, 0x00);
    MALFORMED(&b, "section size mismatch");
    b = module();
    BYTES(&c, 0x00, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED_AT(&b, "section size mismatch", 10);
    /* The section size itself cut short. */
    b = module();
    BYTES(&b, S_TYPE, 0x80);
    MALFORMED(&b, "unexpected end");
    b = module();
    BYTES(&b, S_TYPE, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    MALFORMED(&b, "integer representation too long");
}

/* ---- types, imports, tables, memories, globals ------------------------------------------------- */

static void type_section(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x03, 0x60, 0x00, 0x00, 0x60, 0x02, 0x7F, 0x7E, 0x01, 0x7D, 0x60, 0x01, 0x7B, 0x02, 0x70, 0x6F);
    section(&b, S_TYPE, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->ntypes, 3);
    assert_int_equal(m->types[0].nparams, 0);
    assert_int_equal(m->types[0].nresults, 0);
    assert_int_equal(m->types[1].nparams, 2);
    assert_int_equal(m->types[1].params[0], K23VM_I32);
    assert_int_equal(m->types[1].params[1], K23VM_I64);
    assert_int_equal(m->types[1].nresults, 1);
    assert_int_equal(m->types[1].results[0], K23VM_F32);
    assert_int_equal(m->types[2].params[0], K23VM_V128);
    assert_int_equal(m->types[2].results[0], K23VM_FUNCREF);
    assert_int_equal(m->types[2].results[1], K23VM_EXTERNREF);
    drop(m, &b);

    /* Implementation limits: 1000 parameters and 1000 results pass, 1001 do not. */
    for (int which = 0; which < 2; which++) {
        for (uint32_t n = 1000; n <= 1001; n++) {
            b = module();
            BYTES(&c, 0x01, 0x60);
            if (which) BYTES(&c, 0x00);
            uleb(&c, n);
            for (uint32_t i = 0; i < n; i++) BYTES(&c, 0x7F);
            if (!which) BYTES(&c, 0x00);
            section(&b, S_TYPE, &c);
            if (n == 1000) {
                m = decode_ok(&b);
                drop(m, &b);
            } else {
                limit_exceeded(&b, which ? "implementation limit: more than 1000 results"
                                         : "implementation limit: more than 1000 parameters", __LINE__);
            }
        }
    }

    b = module();
    BYTES(&c, 0x01, 0x61, 0x00, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED_AT(&b, "malformed function type", 11);
    b = module();
    BYTES(&c, 0x01, 0xE0, 0x7F, 0x00, 0x00); /* -0x20 in two bytes */
    section(&b, S_TYPE, &c);
    MALFORMED(&b, "integer representation too long");
    b = module();
    BYTES(&c, 0x01, 0x60, 0x01, 0x7A, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED(&b, "malformed value type");
    b = module();
    BYTES(&c, 0x01, 0x60, 0x01, 0x40, 0x00);
    section(&b, S_TYPE, &c);
    MALFORMED(&b, "malformed reference type");
    b = module();
    BYTES(&c, 0x01, 0x60, 0x00, 0x01, 0xFF);
    section(&b, S_TYPE, &c);
    MALFORMED(&b, "integer representation too long");
    /* Two types declared, one given (binary.wast). */
    b = module();
    BYTES(&b, S_TYPE, 0x07, 0x02, 0x60, 0x00, 0x00);
    MALFORMED(&b, "length out of bounds");
}

static void imports(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x01, 0x60, 0x00, 0x00);
    section(&b, S_TYPE, &c);
    BYTES(&c, 0x05);
    str(&c, "m"), str(&c, "f"), BYTES(&c, 0x00, 0x00);
    str(&c, "m"), str(&c, "t"), BYTES(&c, 0x01, 0x6F, 0x01, 0x02, 0x03);
    str(&c, "m"), str(&c, "mem"), BYTES(&c, 0x02, 0x00, 0x05);
    str(&c, "\xE2\x82\xAC"), str(&c, "g"), BYTES(&c, 0x03, 0x7E, 0x01);
    str(&c, "m"), str(&c, "f2"), BYTES(&c, 0x00, 0x00);
    section(&b, S_IMPORT, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->nimports, 5);
    assert_int_equal(m->nfunc_imports, 2);
    assert_int_equal(m->nfuncs, 2);
    assert_int_equal(m->ntable_imports, 1);
    assert_int_equal(m->ntables, 1);
    assert_int_equal(m->tables[0].elem, K23VM_EXTERNREF);
    assert_true(m->tables[0].lim.has_max);
    assert_int_equal(m->tables[0].lim.min, 2);
    assert_int_equal(m->tables[0].lim.max, 3);
    assert_int_equal(m->nmems, 1);
    assert_false(m->mems[0].lim.has_max);
    assert_int_equal(m->mems[0].lim.min, 5);
    assert_int_equal(m->nglobals, 1);
    assert_int_equal(m->globaltypes[0].type, K23VM_I64);
    assert_true(m->globaltypes[0].mut);
    assert_int_equal(m->imports[3].module.len, 3);
    assert_memory_equal(m->imports[3].module.ptr, "\xE2\x82\xAC", 3);
    assert_int_equal(m->imports[2].field.len, 3);
    assert_int_equal(m->imports[4].kind, K23VM_EXTERN_FUNC);
    drop(m, &b);

    static const uint8_t bad_kinds[] = {0x04, 0x05, 0x80};
    for (size_t i = 0; i < sizeof bad_kinds; i++) {
        b = module();
        BYTES(&c, 0x01, 0x00, 0x00, bad_kinds[i]);
        section(&b, S_IMPORT, &c);
        MALFORMED(&b, "malformed import kind");
    }
    b = module();
    BYTES(&c, 0x01, 0x01, 0xFF, 0x00, 0x00, 0x00);
    section(&b, S_IMPORT, &c);
    MALFORMED(&b, "malformed UTF-8 encoding");
    b = module();
    BYTES(&c, 0x01, 0x00, 0x00, 0x03, 0x7F, 0x02);
    section(&b, S_IMPORT, &c);
    MALFORMED(&b, "malformed mutability");
    /* Two imports declared, one given, at the module's end (binary.wast). */
    b = module();
    BYTES(&c, 0x02, 0x00, 0x00, 0x02, 0x00, 0x00);
    section(&b, S_IMPORT, &c);
    MALFORMED(&b, "unexpected end of section or function");
}

static void limits_flags(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x02, 0x70, 0x00, 0x00, 0x6F, 0x01, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    section(&b, S_TABLE, &c);
    BYTES(&c, 0x01, 0x01, 0x00, 0x80, 0x80, 0x04);
    section(&b, S_MEM, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->ntables, 2);
    assert_int_equal(m->tables[0].elem, K23VM_FUNCREF);
    assert_int_equal(m->tables[1].lim.max, 0xFFFFFFFF);
    assert_int_equal(m->nmems, 1);
    assert_int_equal(m->mems[0].lim.max, 65536);
    drop(m, &b);

    /* binary.wast: the flag is a one-bit LEB128 to the reference interpreter. */
    static const struct {
        uint8_t flag[2];
        const char *msg;
    } bad[] = {
        {{0x02, 0x00}, "integer too large"},
        {{0x08, 0x00}, "integer too large"},
        {{0x81, 0x00}, "integer representation too long"},
        {{0x82, 0x00}, "integer too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = module();
        BYTES(&c, 0x01);
        put(&c, bad[i].flag, 2);
        BYTES(&c, 0x00);
        section(&b, S_MEM, &c);
        MALFORMED(&b, bad[i].msg);
        b = module();
        BYTES(&c, 0x01, 0x70);
        put(&c, bad[i].flag, 2);
        BYTES(&c, 0x00);
        section(&b, S_TABLE, &c);
        MALFORMED(&b, bad[i].msg);
    }
    b = module();
    BYTES(&c, 0x01, 0x7F, 0x00, 0x00);
    section(&b, S_TABLE, &c);
    MALFORMED(&b, "malformed reference type");
    /* A memory limit over 32 bits is not a u32. */
    b = module();
    BYTES(&c, 0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10);
    section(&b, S_MEM, &c);
    MALFORMED(&b, "integer too large");
}

static void globals(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x01);
    str(&c, "m"), str(&c, "g"), BYTES(&c, 0x03, 0x7F, 0x00);
    section(&b, S_IMPORT, &c);
    size_t gsec = b.n;
    BYTES(&c, 0x03, 0x7F, 0x00, 0x41, 0x2A, 0x0B,               /* i32 42 */
          0x7E, 0x01, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F, 0x0B, /* i64 min */
          0x7B, 0x00, 0xFD, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0B); /* v128.const */
    section(&b, S_GLOBAL, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->nglobals, 4);
    assert_int_equal(m->nglobal_imports, 1);
    assert_int_equal(m->globaltypes[1].type, K23VM_I32);
    assert_int_equal(m->globaltypes[2].type, K23VM_I64);
    assert_true(m->globaltypes[2].mut);
    assert_int_equal(m->globaltypes[3].type, K23VM_V128);
    /* The init expressions' extents include their `end`. */
    size_t first = gsec + 2 + 1 + 2; /* id, size, count, type, mutability */
    assert_int_equal(m->globals[0].init.start, first);
    assert_int_equal(m->globals[0].init.end, first + 3);
    assert_int_equal(m->bytes[m->globals[1].init.end - 1], 0x0B);
    assert_int_equal(m->globals[1].init.end - m->globals[1].init.start, 12);
    assert_int_equal(m->globals[2].init.end - m->globals[2].init.start, 19);
    drop(m, &b);

    /* Nested blocks are followed to the matching end (invalid, not malformed). */
    b = module();
    BYTES(&c, 0x01, 0x7F, 0x00, 0x02, 0x40, 0x04, 0x40, 0x05, 0x0B, 0x0B, 0x41, 0x00, 0x0B);
    section(&b, S_GLOBAL, &c);
    m = decode_ok(&b);
    assert_int_equal(m->globals[0].init.end - m->globals[0].init.start, 10);
    drop(m, &b);

    b = module();
    BYTES(&c, 0x01, 0x7F, 0x02, 0x41, 0x00, 0x0B);
    section(&b, S_GLOBAL, &c);
    MALFORMED(&b, "malformed mutability");
    b = module();
    BYTES(&c, 0x01, 0x7F, 0xFF, 0x41, 0x00, 0x0B);
    section(&b, S_GLOBAL, &c);
    MALFORMED(&b, "malformed mutability");
    /* An init expression without `end` runs into the next section's id (binary.wast). */
    b = module();
    BYTES(&c, 0x01, 0x7F, 0x00, 0x41, 0x00);
    section(&b, S_GLOBAL, &c);
    BYTES(&c, 0x00);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "illegal opcode");
    b = module();
    BYTES(&c, 0x01, 0x7F, 0x00, 0x05, 0x0B);
    section(&b, S_GLOBAL, &c);
    MALFORMED(&b, "END opcode expected");
    /* i32.const with an over-long immediate (binary-leb128.wast). */
    b = module();
    BYTES(&c, 0x01, 0x7F, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0B);
    section(&b, S_GLOBAL, &c);
    MALFORMED(&b, "integer too large");
}

/* ---- exports, start, elements, data -------------------------------------------------------------- */

static void exports_start(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x03);
    str(&c, "a"), BYTES(&c, 0x00, 0x05);
    str(&c, ""), BYTES(&c, 0x03, 0x80, 0x01);
    str(&c, "mem"), BYTES(&c, 0x02, 0x00);
    section(&b, S_EXPORT, &c);
    BYTES(&c, 0x07);
    section(&b, S_START, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->nexports, 3);
    assert_int_equal(m->exports[0].kind, K23VM_EXTERN_FUNC);
    assert_int_equal(m->exports[0].index, 5);
    assert_int_equal(m->exports[1].name.len, 0);
    assert_int_equal(m->exports[1].kind, K23VM_EXTERN_GLOBAL);
    assert_int_equal(m->exports[1].index, 128);
    assert_memory_equal(m->exports[2].name.ptr, "mem", 3);
    assert_true(m->has_start);
    assert_int_equal(m->start, 7);
    drop(m, &b);

    b = module();
    BYTES(&c, 0x01, 0x00, 0x04, 0x00);
    section(&b, S_EXPORT, &c);
    MALFORMED(&b, "malformed export kind");
    /* Two start sections. */
    b = module();
    BYTES(&c, 0x00);
    section(&b, S_START, &c);
    BYTES(&c, 0x00);
    section(&b, S_START, &c);
    MALFORMED(&b, "unexpected content after last section");
}

static void elements(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x08,
          0x00, 0x41, 0x01, 0x0B, 0x02, 0x03, 0x04,             /* 0: active table 0, funcs 3 4 */
          0x01, 0x00, 0x01, 0x05,                               /* 1: passive, elemkind, func 5 */
          0x02, 0x02, 0x41, 0x00, 0x0B, 0x00, 0x00,             /* 2: active table 2, no funcs */
          0x03, 0x00, 0x01, 0x06,                               /* 3: declarative, func 6 */
          0x04, 0x41, 0x00, 0x0B, 0x01, 0xD2, 0x07, 0x0B,       /* 4: active table 0, (ref.func 7) */
          0x05, 0x6F, 0x02, 0xD0, 0x6F, 0x0B, 0xD0, 0x6F, 0x0B, /* 5: passive externref, 2 nulls */
          0x06, 0x01, 0x41, 0x00, 0x0B, 0x70, 0x00,             /* 6: active table 1, funcref, none */
          0x87, 0x00, 0x70, 0x01, 0x23, 0x00, 0x0B);            /* 7 (2-byte flags): declarative */
    section(&b, S_ELEM, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->nelems, 8);
    const elemseg *e = m->elems;
    assert_int_equal(e[0].mode, SEG_ACTIVE);
    assert_int_equal(e[0].table, 0);
    assert_int_equal(e[0].type, K23VM_FUNCREF);
    assert_int_equal(e[0].offset.end - e[0].offset.start, 3);
    assert_int_equal(e[0].count, 2);
    assert_non_null(e[0].funcs);
    assert_null(e[0].exprs);
    assert_int_equal(e[0].funcs[1], 4);
    assert_int_equal(e[1].mode, SEG_PASSIVE);
    assert_int_equal(e[1].funcs[0], 5);
    assert_int_equal(e[2].mode, SEG_ACTIVE);
    assert_int_equal(e[2].table, 2);
    assert_int_equal(e[2].count, 0);
    assert_int_equal(e[3].mode, SEG_DECLARATIVE);
    assert_int_equal(e[3].funcs[0], 6);
    assert_int_equal(e[4].mode, SEG_ACTIVE);
    assert_int_equal(e[4].count, 1);
    assert_non_null(e[4].exprs);
    assert_null(e[4].funcs);
    assert_int_equal(e[4].exprs[0].end - e[4].exprs[0].start, 3);
    assert_int_equal(e[5].mode, SEG_PASSIVE);
    assert_int_equal(e[5].type, K23VM_EXTERNREF);
    assert_int_equal(e[5].count, 2);
    assert_int_equal(e[6].table, 1);
    assert_int_equal(e[6].type, K23VM_FUNCREF);
    assert_int_equal(e[7].mode, SEG_DECLARATIVE);
    assert_int_equal(e[7].count, 1);
    drop(m, &b);

    b = module();
    BYTES(&c, 0x01, 0x08, 0x00);
    section(&b, S_ELEM, &c);
    MALFORMED(&b, "malformed elements segment kind");
    b = module();
    BYTES(&c, 0x01, 0x01, 0x01, 0x00);
    section(&b, S_ELEM, &c);
    MALFORMED(&b, "malformed element kind");
    b = module();
    BYTES(&c, 0x01, 0x05, 0x7F, 0x01, 0xD2, 0x00, 0x0B);
    section(&b, S_ELEM, &c);
    MALFORMED(&b, "malformed reference type");
    b = module();
    BYTES(&c, 0x01, 0x05, 0x70, 0x01, 0xF3, 0x00, 0x0B);
    section(&b, S_ELEM, &c);
    MALFORMED(&b, "illegal opcode");
    /* Two segments declared, one given. */
    b = module();
    BYTES(&c, 0x02, 0x00, 0x41, 0x00, 0x0B, 0x01, 0x00);
    section(&b, S_ELEM, &c);
    MALFORMED(&b, "unexpected end");
}

static void data_segments(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    BYTES(&c, 0x03);
    section(&b, S_DATACOUNT, &c);
    size_t dsec = b.n + 2;
    BYTES(&c, 0x03,
          0x00, 0x41, 0x10, 0x0B, 0x02, 'h', 'i',   /* active memory 0 */
          0x01, 0x03, 'a', 'b', 'c',                /* passive */
          0x82, 0x00, 0x01, 0x41, 0x00, 0x0B, 0x00); /* active memory 1 (2-byte flags), empty */
    section(&b, S_DATA, &c);
    k23vm_module *m = decode_ok(&b);
    assert_true(m->has_datacount);
    assert_int_equal(m->datacount, 3);
    assert_int_equal(m->ndatas, 3);
    assert_int_equal(m->datas[0].mode, SEG_ACTIVE);
    assert_int_equal(m->datas[0].mem, 0);
    assert_int_equal(m->datas[0].offset.start, dsec + 2);
    assert_int_equal(m->datas[0].len, 2);
    assert_memory_equal(m->bytes + m->datas[0].start, "hi", 2);
    assert_int_equal(m->datas[1].mode, SEG_PASSIVE);
    assert_memory_equal(m->bytes + m->datas[1].start, "abc", 3);
    assert_int_equal(m->datas[2].mem, 1);
    assert_int_equal(m->datas[2].len, 0);
    drop(m, &b);

    b = module();
    BYTES(&c, 0x01, 0x03, 0x00);
    section(&b, S_DATA, &c);
    MALFORMED(&b, "malformed data segment kind");
    /* Data count and data section disagree, or the data section is missing. */
    b = module();
    BYTES(&c, 0x02);
    section(&b, S_DATACOUNT, &c);
    BYTES(&c, 0x01, 0x01, 0x00);
    section(&b, S_DATA, &c);
    MALFORMED(&b, "data count and data section have inconsistent lengths");
    b = module();
    BYTES(&c, 0x01);
    section(&b, S_DATACOUNT, &c);
    MALFORMED(&b, "data count and data section have inconsistent lengths");
    b = module();
    BYTES(&c, 0x00);
    section(&b, S_DATACOUNT, &c);
    m = decode_ok(&b);
    drop(m, &b);
    /* Segment longer than declared, at the module's end (binary.wast). */
    b = module();
    BYTES(&c, 0x01, 0x00, 0x41, 0x03, 0x0B, 0x07, 'a', 'b', 'c', 'd', 'e', 'f');
    section(&b, S_DATA, &c);
    MALFORMED(&b, "unexpected end of section or function");
    b = module();
    BYTES(&c, 0x01, 0x00, 0x41, 0x03, 0x0B, 0x05, 'a', 'b', 'c', 'd', 'e', 'f');
    section(&b, S_DATA, &c);
    MALFORMED(&b, "section size mismatch");
}

/* ---- code section -------------------------------------------------------------------------------- */

/* Type section () -> (), function section with n functions of type 0. */
static buf funcs_module(uint32_t n)
{
    buf b = module(), c = {0};
    BYTES(&c, 0x01, 0x60, 0x00, 0x00);
    section(&b, S_TYPE, &c);
    uleb(&c, n);
    for (uint32_t i = 0; i < n; i++) BYTES(&c, 0x00);
    section(&b, S_FUNC, &c);
    return b;
}

static void code_section(void **state)
{
    (void)state;
    buf b = funcs_module(2), c = {0};
    size_t code = b.n + 2;
    BYTES(&c, 0x02,
          0x02, 0x00, 0x0B,                                     /* no locals */
          0x09, 0x03, 0x02, 0x7F, 0x00, 0x7E, 0x03, 0x7B, 0x01, 0x0B); /* 2 i32, 0 i64, 3 v128 */
    section(&b, S_CODE, &c);
    k23vm_module *m = decode_ok(&b);
    assert_int_equal(m->nfuncs, 2);
    assert_int_equal(m->func_typeidx[1], 0);
    const func *f = m->funcs;
    assert_int_equal(f[0].body_start, code + 3);
    assert_int_equal(f[0].body_end, code + 4);
    assert_int_equal(f[0].nruns, 0);
    assert_int_equal(f[0].nlocals, 0);
    assert_int_equal(f[1].nruns, 3);
    assert_int_equal(f[1].nlocals, 5);
    assert_int_equal(f[1].runs[0].count, 2);
    assert_int_equal(f[1].runs[0].type, K23VM_I32);
    assert_int_equal(f[1].runs[2].type, K23VM_V128);
    assert_int_equal(f[1].body_end - f[1].body_start, 2);
    assert_int_equal(m->bytes[f[1].body_end - 1], 0x0B);
    drop(m, &b);

    /* 2^32 - 1 locals are well-formed, 2^32 are not (binary.wast); past 50000 the implementation
     * limit refuses them, as a resource error. */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x06, 0x01, 0xD0, 0x86, 0x03, 0x7F, 0x0B); /* 50000 */
    section(&b, S_CODE, &c);
    m = decode_ok(&b);
    assert_int_equal(m->funcs[0].nlocals, 50000);
    drop(m, &b);
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x06, 0x01, 0xD1, 0x86, 0x03, 0x7F, 0x0B); /* 50001 */
    section(&b, S_CODE, &c);
    limit_exceeded(&b, "implementation limit: more than 50000 locals", __LINE__);
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x08, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B);
    section(&b, S_CODE, &c);
    limit_exceeded(&b, "implementation limit: more than 50000 locals", __LINE__);
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x0A, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x02, 0x7E, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "too many locals");
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x0A, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10, 0x7F, 0x02, 0x7E, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "integer too large");
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x04, 0x01, 0x01, 0x40, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "malformed reference type");

    /* Function and code counts disagree, or one section is missing. */
    b = funcs_module(2);
    MALFORMED(&b, "function and code section have inconsistent lengths");
    b = funcs_module(2);
    BYTES(&c, 0x01, 0x02, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "function and code section have inconsistent lengths");
    b = funcs_module(1);
    BYTES(&c, 0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "function and code section have inconsistent lengths");
    b = module();
    BYTES(&c, 0x01, 0x02, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "function and code section have inconsistent lengths");
    b = funcs_module(0);
    m = decode_ok(&b);
    drop(m, &b);

    /* A body without its final `end`: what follows decides the message, as it does for the
     * reference interpreter (binary.wast). Nothing follows: */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1A);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "unexpected end of section or function");
    /* the next body's size (0x05, read as `else`): */
    b = funcs_module(2);
    BYTES(&c, 0x02, 0x04, 0x00, 0x41, 0x01, 0x1A, 0x05, 0x00, 0x41, 0x01, 0x1A, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "END opcode expected");
    /* the data section's id, 0x0B, taken for the `end`: */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1A);
    section(&b, S_CODE, &c);
    BYTES(&b, 0x0B, 0x01, 0x00);
    MALFORMED(&b, "section size mismatch");
    /* an instruction error past the declared size (binary-leb128.wast): */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x04, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "integer representation too long");
    /* an empty body, and locals that run past the body's size */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x01, 0x00);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "unexpected end");
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x01, 0x01, 0x01, 0x7F, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "section size mismatch");
    /* a body size past the module's end */
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x09, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    MALFORMED(&b, "length out of bounds");
}

/* ---- custom and name sections ------------------------------------------------------------------ */

/* A module with 3 functions (1 imported) and the given name section contents. */
static buf named_module(buf *names)
{
    buf b = module(), c = {0};
    BYTES(&c, 0x01, 0x60, 0x00, 0x00);
    section(&b, S_TYPE, &c);
    BYTES(&c, 0x01), str(&c, "m"), str(&c, "f"), BYTES(&c, 0x00, 0x00);
    section(&b, S_IMPORT, &c);
    BYTES(&c, 0x02, 0x00, 0x00);
    section(&b, S_FUNC, &c);
    BYTES(&c, 0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B);
    section(&b, S_CODE, &c);
    str(&c, "name");
    put(&c, names->b, names->n);
    free(names->b);
    *names = (buf){0};
    section(&b, S_CUSTOM, &c);
    return b;
}

static void subsection(buf *names, uint8_t id, buf *c) { section(names, id, c); }

static void name_section(void **state)
{
    (void)state;
    buf n = {0}, c = {0};
    str(&c, "mod");
    subsection(&n, 0, &c);
    BYTES(&c, 0x02, 0x00), str(&c, "imp"), BYTES(&c, 0x02), str(&c, "second");
    subsection(&n, 1, &c);
    BYTES(&c, 0x01, 0x01, 0x02, 0x00), str(&c, "p"), BYTES(&c, 0x05), str(&c, "loc");
    subsection(&n, 2, &c);
    BYTES(&c, 0x00);
    subsection(&n, 7, &c); /* extended-name-section global names: skipped */
    buf b = named_module(&n);
    k23vm_module *m = decode_ok(&b);
    assert_true(m->has_module_name);
    assert_int_equal(m->module_name.len, 3);
    assert_memory_equal(m->module_name.ptr, "mod", 3);
    assert_int_equal(m->nfunc_names, 2);
    assert_int_equal(m->func_names[1].index, 2);
    assert_memory_equal(m->func_names[1].name.ptr, "second", 6);
    assert_int_equal(m->nlocal_names, 1);
    assert_int_equal(m->local_names[0].func, 1);
    assert_int_equal(m->local_names[0].count, 2);
    assert_int_equal(m->local_names[0].names[1].index, 5);
    drop(m, &b);

    /* Broken name sections are ignored: the module decodes without names. */
    for (int k = 0; k < 6; k++) {
        switch (k) {
        case 0: /* function names out of order */
            BYTES(&c, 0x02, 0x02), str(&c, "a"), BYTES(&c, 0x01), str(&c, "b");
            subsection(&n, 1, &c);
            break;
        case 1: /* a name that is not UTF-8 */
            BYTES(&c, 0x01, 0x00, 0x01, 0xFF);
            subsection(&n, 1, &c);
            break;
        case 2: /* subsections out of order */
            BYTES(&c, 0x00);
            subsection(&n, 1, &c);
            str(&c, "mod");
            subsection(&n, 0, &c);
            break;
        case 3: /* a subsection longer than the section */
            BYTES(&n, 0x01, 0x20, 0x00);
            break;
        case 4: /* a subsection with bytes left over */
            str(&c, "mod");
            BYTES(&c, 0x00);
            subsection(&n, 0, &c);
            break;
        case 5: /* a good module name, then a function name map cut short */
            str(&c, "mod");
            subsection(&n, 0, &c);
            BYTES(&c, 0x05, 0x00);
            subsection(&n, 1, &c);
            break;
        }
        b = named_module(&n);
        m = decode_ok(&b);
        if (m->has_module_name || m->nfunc_names || m->nlocal_names) fail_msg("case %d: names kept", k);
        drop(m, &b);
    }

    /* Only the first name section counts. */
    str(&c, "first");
    subsection(&n, 0, &c);
    b = named_module(&n);
    str(&c, "name");
    BYTES(&c, 0x00, 0x06), str(&c, "other");
    section(&b, S_CUSTOM, &c);
    m = decode_ok(&b);
    assert_int_equal(m->module_name.len, 5);
    drop(m, &b);
}

static void custom_sections(void **state)
{
    (void)state;
    buf b = module(), c = {0};
    str(&c, "custom");
    BYTES(&c, 1, 2, 3);
    section(&b, S_CUSTOM, &c);
    k23vm_module *m = decode_ok(&b);
    drop(m, &b);
    /* custom.wast */
    b = module();
    BYTES(&b, 0x00);
    MALFORMED(&b, "unexpected end");
    b = module();
    BYTES(&b, 0x00, 0x00);
    MALFORMED(&b, "unexpected end");
    b = module();
    BYTES(&b, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x07, 0x00, 0x00);
    MALFORMED(&b, "unexpected end");
    b = module();
    BYTES(&b, 0x00, 0x02, 0x05, 'a', 'b', 'c', 'd', 'e');
    MALFORMED(&b, "unexpected end");
    b = module();
    BYTES(&c, 0x02, 0xC0, 0x80);
    section(&b, S_CUSTOM, &c);
    MALFORMED(&b, "malformed UTF-8 encoding");
    /* A second module appended to the first. */
    b = module();
    BYTES(&b, 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00);
    MALFORMED(&b, "length out of bounds");
    /* A custom section one byte too long swallows the next one's id (custom.wast). */
    b = module();
    BYTES(&b, 0x00, 0x04, 0x01, 'a', 'x', 0x00, 0x24, 0x01, 'b', 'y');
    MALFORMED(&b, "malformed section id");
}

/* ---- hostile sizes ------------------------------------------------------------------------------- */

/* A platform that counts the bytes it has handed out and fails past a limit. */
typedef struct counting {
    size_t live, peak, limit;
} counting;

static void *cnt_alloc(void *ctx, size_t n)
{
    counting *c = ctx;
    if (c->live + n > c->limit) return NULL;
    c->live += n;
    if (c->live > c->peak) c->peak = c->live;
    return malloc(n);
}

static void *cnt_realloc(void *ctx, void *p, size_t old, size_t n)
{
    counting *c = ctx;
    if (c->live - old + n > c->limit) return NULL;
    c->live = c->live - old + n;
    if (c->live > c->peak) c->peak = c->live;
    return realloc(p, n);
}

static void cnt_free(void *ctx, void *p, size_t n)
{
    counting *c = ctx;
    c->live -= n;
    free(p);
}

/* Decodes b under a 16 MiB allocation limit; expects failure with msg (malformed, not out of
 * memory) and that the decoder's peak stayed within a small multiple of the module's size. */
static void hostile(buf *b, const char *msg, int line)
{
    counting cnt = {0, 0, 16u << 20};
    k23vm_platform plat = engine->plat;
    plat.ctx = &cnt;
    plat.alloc = cnt_alloc;
    plat.realloc = cnt_realloc;
    plat.free = cnt_free;
    k23vm_error *err = decode_with(&plat, b, NULL);
    if (!err) fail_msg("line %d: accepted", line);
    if (k23vm_error_kind_of(err) != K23VM_ERROR_MALFORMED ||
        strncmp(k23vm_error_message(err), msg, strlen(msg)) != 0)
        fail_msg("line %d: expected \"%s\", got kind %d \"%s\"", line, msg, (int)k23vm_error_kind_of(err),
                 k23vm_error_message(err));
    k23vm_error_delete(err);
    if (cnt.peak > 256 * 1024) fail_msg("line %d: peak allocation %zu bytes", line, cnt.peak);
    assert_int_equal(cnt.live, 0);
    drop(NULL, b);
}
#define HOSTILE(b, msg) hostile((b), (msg), __LINE__)

static void hostile_sizes(void **state)
{
    (void)state;
    static const uint8_t sec_ids[] = {S_TYPE, S_IMPORT, S_FUNC, S_TABLE, S_MEM,
                                      S_GLOBAL, S_EXPORT, S_ELEM, S_CODE, S_DATA};
    /* A count of 2^32-1 in a small section: len32 refuses it outright. */
    for (size_t i = 0; i < sizeof sec_ids; i++) {
        buf b = module(), c = {0};
        BYTES(&c, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
        section(&b, sec_ids[i], &c);
        HOSTILE(&b, "length out of bounds");
    }
    /* A count that fits the bytes left (len32) but not the elements: 64 KiB of zero bytes read as
     * a vector of 65535 elements. The allocation must follow the bytes, not the count times the
     * element size... and each element then fails on its own terms. */
    for (size_t i = 0; i < sizeof sec_ids; i++) {
        buf b = module(), c = {0};
        uleb(&c, 65535);
        section(&b, sec_ids[i], &c);
        for (int k = 0; k < 65536 / 16; k++) put(&b, (const uint8_t[16]){0}, 16);
        k23vm_error *err = decode_with(&engine->plat, &b, NULL);
        assert_non_null(err); /* section size mismatch, or a malformed element */
        assert_int_equal(k23vm_error_kind_of(err), K23VM_ERROR_MALFORMED);
        k23vm_error_delete(err);
        drop(NULL, &b);
    }
    /* Inner vectors: element funcs, element exprs, local runs, type params, names. */
    buf b = module(), c = {0};
    BYTES(&c, 0x01, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    section(&b, S_ELEM, &c);
    HOSTILE(&b, "length out of bounds");
    b = module();
    BYTES(&c, 0x01, 0x05, 0x70, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    section(&b, S_ELEM, &c);
    HOSTILE(&b, "length out of bounds");
    b = funcs_module(1);
    BYTES(&c, 0x01, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B);
    section(&b, S_CODE, &c);
    HOSTILE(&b, "length out of bounds");
    b = module();
    BYTES(&c, 0x01, 0x60, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00);
    section(&b, S_TYPE, &c);
    HOSTILE(&b, "length out of bounds");
    b = module();
    BYTES(&c, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    section(&b, S_IMPORT, &c);
    HOSTILE(&b, "length out of bounds");
    b = module();
    BYTES(&c, 0x01, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    section(&b, S_DATA, &c);
    HOSTILE(&b, "length out of bounds");
    /* A name section whose maps claim 2^32-1 entries is ignored without allocating them. */
    buf n = {0};
    BYTES(&c, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F);
    subsection(&n, 1, &c);
    b = named_module(&n);
    counting cnt = {0, 0, 16u << 20};
    k23vm_platform plat = engine->plat;
    plat.ctx = &cnt, plat.alloc = cnt_alloc, plat.realloc = cnt_realloc, plat.free = cnt_free;
    k23vm_module *m = NULL;
    assert_null(decode_with(&plat, &b, &m));
    assert_int_equal(m->nfunc_names, 0);
    assert_true(cnt.peak < 256 * 1024);
    arena_free(&m->arena);
    free(m);
    free(b.b);
}

/* Allocation failures come out as RESOURCE errors, never as malformed modules. */
static void out_of_memory(void **state)
{
    (void)state;
    buf n = {0}, c = {0};
    BYTES(&c, 0x01, 0x00), str(&c, "f");
    section(&n, 1, &c);
    buf b = named_module(&n);
    bool succeeded = false;
    for (size_t limit = 0; limit < (128u << 10); limit += 1024) {
        counting cnt = {0, 0, limit};
        k23vm_platform plat = engine->plat;
        plat.ctx = &cnt, plat.alloc = cnt_alloc, plat.realloc = cnt_realloc, plat.free = cnt_free;
        k23vm_module *m = NULL;
        k23vm_error *err = decode_with(&plat, &b, &m);
        if (err) {
            assert_int_equal(k23vm_error_kind_of(err), K23VM_ERROR_RESOURCE);
            k23vm_error_delete(err);
        } else {
            assert_int_equal(m->nfunc_names, 1);
            succeeded = true;
            arena_free(&m->arena);
            free(m);
        }
        assert_int_equal(cnt.live, 0);
    }
    assert_true(succeeded);
    free(b.b);
}

static void valkind_names(void **state)
{
    (void)state;
    assert_string_equal(k23vm_valkind_name(K23VM_I32), "i32");
    assert_string_equal(k23vm_valkind_name(K23VM_I64), "i64");
    assert_string_equal(k23vm_valkind_name(K23VM_F32), "f32");
    assert_string_equal(k23vm_valkind_name(K23VM_F64), "f64");
    assert_string_equal(k23vm_valkind_name(K23VM_V128), "v128");
    assert_string_equal(k23vm_valkind_name(K23VM_FUNCREF), "funcref");
    assert_string_equal(k23vm_valkind_name(K23VM_EXTERNREF), "externref");
    assert_string_equal(k23vm_valkind_name((k23vm_valkind)0), "?");
    assert_string_equal(k23vm_valkind_name((k23vm_valkind)0x40), "?");
    assert_string_equal(k23vm_valkind_name((k23vm_valkind)-1), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(preamble),      cmocka_unit_test(section_order), cmocka_unit_test(section_sizes),
        cmocka_unit_test(type_section),  cmocka_unit_test(imports),       cmocka_unit_test(limits_flags),
        cmocka_unit_test(globals),       cmocka_unit_test(exports_start), cmocka_unit_test(elements),
        cmocka_unit_test(data_segments), cmocka_unit_test(code_section),  cmocka_unit_test(name_section),
        cmocka_unit_test(custom_sections), cmocka_unit_test(hostile_sizes), cmocka_unit_test(out_of_memory),
        cmocka_unit_test(valkind_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
