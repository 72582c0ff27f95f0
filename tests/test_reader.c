/* test_reader.c - cmocka tests of the byte reader (src/reader.h): LEB128 of every width at its
 * limits (5.2.2), the reference interpreter's order of "integer too large" and "integer
 * representation too long", vector and name lengths (len32), and UTF-8 validation (5.2.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reader.h"

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

enum { U32, S32, S33, U64, S64 };

/* Reads one LEB of the given kind from the whole buffer. Returns the value (sign-extended for the
 * signed kinds) and checks that it consumed `used` bytes; on failure checks the message. */
static int64_t leb_ok(int kind, const uint8_t *b, size_t n, size_t used)
{
    reader r;
    rd_init(&r, b, n);
    int64_t v = 0;
    bool ok = false;
    switch (kind) {
    case U32: {
        uint32_t x = 0;
        ok = rd_u32(&r, &x);
        v = x;
        break;
    }
    case S32: {
        int32_t x = 0;
        ok = rd_s32(&r, &x);
        v = x;
        break;
    }
    case S33: ok = rd_s33(&r, &v); break;
    case U64: {
        uint64_t x = 0;
        ok = rd_u64(&r, &x);
        v = (int64_t)x;
        break;
    }
    case S64: ok = rd_s64(&r, &v); break;
    }
    if (!ok) fail_msg("kind %d: unexpected error %s", kind, r.err);
    assert_int_equal((size_t)(r.p - b), used);
    return v;
}

static void leb_err(int kind, const uint8_t *b, size_t n, const char *msg)
{
    reader r;
    rd_init(&r, b, n);
    bool ok = false;
    uint32_t u32;
    int32_t s32;
    uint64_t u64;
    int64_t s64;
    switch (kind) {
    case U32: ok = rd_u32(&r, &u32); break;
    case S32: ok = rd_s32(&r, &s32); break;
    case S33: ok = rd_s33(&r, &s64); break;
    case U64: ok = rd_u64(&r, &u64); break;
    case S64: ok = rd_s64(&r, &s64); break;
    }
    if (ok) fail_msg("kind %d: expected \"%s\", got success", kind, msg);
    assert_non_null(r.err);
    assert_string_equal(r.err, msg);
}

static const char *const TOO_LONG = "integer representation too long";
static const char *const TOO_LARGE = "integer too large";
static const char *const END = "unexpected end of section or function";

static void leb_u32(void **state)
{
    (void)state;
    assert_int_equal(leb_ok(U32, B(0x00), 1), 0);
    assert_int_equal(leb_ok(U32, B(0x7F), 1), 127);
    assert_int_equal(leb_ok(U32, B(0x80, 0x01), 2), 128);
    assert_int_equal(leb_ok(U32, B(0xE5, 0x8E, 0x26), 3), 624485);
    /* Non-minimal encodings are allowed within the 5-byte limit. */
    assert_int_equal(leb_ok(U32, B(0x80, 0x80, 0x80, 0x80, 0x00), 5), 0);
    assert_int_equal(leb_ok(U32, B(0x82, 0x00), 2), 2);
    /* The largest value and stopping at the terminator with bytes after it. */
    assert_int_equal(leb_ok(U32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), 5), 0xFFFFFFFF);
    assert_int_equal(leb_ok(U32, B(0x05, 0xFF, 0xFF), 1), 5);
    /* Unused bits of the fifth byte must be zero; the reference interpreter checks them before
     * the continuation bit. */
    leb_err(U32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x1F), TOO_LARGE);
    leb_err(U32, B(0x80, 0x80, 0x80, 0x80, 0x10), TOO_LARGE);
    leb_err(U32, B(0x80, 0x80, 0x80, 0x80, 0x70), TOO_LARGE);
    leb_err(U32, B(0x80, 0x80, 0x80, 0x80, 0x90, 0x00), TOO_LARGE);
    leb_err(U32, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), TOO_LONG);
    leb_err(U32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x8F, 0x00), TOO_LONG);
    /* Running out of input. */
    leb_err(U32, B(0x80), END);
    leb_err(U32, (const uint8_t *)"", 0, END);
    leb_err(U32, B(0xFF, 0xFF, 0xFF, 0xFF), END);
}

static void leb_s32(void **state)
{
    (void)state;
    assert_int_equal(leb_ok(S32, B(0x00), 1), 0);
    assert_int_equal(leb_ok(S32, B(0x7F), 1), -1);
    assert_int_equal(leb_ok(S32, B(0x3F), 1), 63);
    assert_int_equal(leb_ok(S32, B(0x40), 1), -64);
    assert_int_equal(leb_ok(S32, B(0xC0, 0x00), 2), 64);
    assert_int_equal(leb_ok(S32, B(0xFF, 0x7E), 2), -129);
    assert_int_equal(leb_ok(S32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x07), 5), INT32_MAX);
    assert_int_equal(leb_ok(S32, B(0x80, 0x80, 0x80, 0x80, 0x78), 5), INT32_MIN);
    assert_int_equal(leb_ok(S32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x7F), 5), -1);
    assert_int_equal(leb_ok(S32, B(0x80, 0x80, 0x80, 0x80, 0x00), 5), 0);
    /* Fifth byte: bits 3-6 must all equal the sign (bit 3). */
    leb_err(S32, B(0x80, 0x80, 0x80, 0x80, 0x70), TOO_LARGE);
    leb_err(S32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), TOO_LARGE);
    leb_err(S32, B(0x80, 0x80, 0x80, 0x80, 0x1F), TOO_LARGE);
    leb_err(S32, B(0xFF, 0xFF, 0xFF, 0xFF, 0x4F), TOO_LARGE);
    leb_err(S32, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), TOO_LONG);
    leb_err(S32, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), TOO_LONG);
    leb_err(S32, B(0xC0), END);
}

static void leb_s33(void **state)
{
    (void)state;
    /* The block type encodings: single negative bytes and type indices. */
    assert_int_equal(leb_ok(S33, B(0x40), 1), -64);
    assert_int_equal(leb_ok(S33, B(0x7F), 1), -1);
    assert_int_equal(leb_ok(S33, B(0x05), 1), 5);
    /* The largest type index an s33 can hold: 2^32 - 1 ... and 2^32 too. */
    assert_int_equal(leb_ok(S33, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), 5), 0xFFFFFFFFll);
    assert_int_equal(leb_ok(S33, B(0x80, 0x80, 0x80, 0x80, 0x70), 5), -(1ll << 32));
    /* Fifth byte: bits 4-6 must equal the sign (bit 4). */
    leb_err(S33, B(0x80, 0x80, 0x80, 0x80, 0x20), TOO_LARGE);
    leb_err(S33, B(0xFF, 0xFF, 0xFF, 0xFF, 0x5F), TOO_LARGE);
    leb_err(S33, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), TOO_LONG);
}

static void leb_u64(void **state)
{
    (void)state;
    assert_int_equal(leb_ok(U64, B(0x00), 1), 0);
    assert_true((uint64_t)leb_ok(U64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), 10) ==
                UINT64_MAX);
    assert_int_equal(leb_ok(U64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 10), 0);
    leb_err(U64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02), TOO_LARGE);
    leb_err(U64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7E), TOO_LARGE);
    leb_err(U64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), TOO_LONG);
    leb_err(U64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80), END);
}

static void leb_s64(void **state)
{
    (void)state;
    assert_int_equal(leb_ok(S64, B(0x7F), 1), -1);
    assert_true(leb_ok(S64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00), 10) == INT64_MAX);
    assert_true(leb_ok(S64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F), 10) == INT64_MIN);
    assert_int_equal(leb_ok(S64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), 10), -1);
    /* Tenth byte: bits 0-6 must all equal the sign (bit 0). */
    leb_err(S64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7E), TOO_LARGE);
    leb_err(S64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), TOO_LARGE);
    leb_err(S64, B(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02), TOO_LARGE);
    leb_err(S64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x41), TOO_LARGE);
    leb_err(S64, B(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), TOO_LONG);
}

/* The first failure is kept: a later one does not overwrite message or offset. */
static void first_error_sticks(void **state)
{
    (void)state;
    const uint8_t b[] = {0x01, 0x80};
    reader r;
    rd_init(&r, b, sizeof b);
    uint8_t x;
    uint32_t v;
    assert_true(rd_u8(&r, &x));
    assert_false(rd_u32(&r, &v));
    assert_string_equal(r.err, END);
    size_t off = r.err_off;
    assert_false(rd_fail_at(&r, b, "other"));
    assert_string_equal(r.err, END);
    assert_int_equal(r.err_off, off);
}

static void sub_reader(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 2, 3, 4, 5};
    reader r;
    rd_init(&r, b, sizeof b);
    r.p += 1;
    reader s = rd_sub(&r, 2);
    uint8_t x;
    assert_true(rd_u8(&s, &x) && x == 2);
    assert_true(rd_u8(&s, &x) && x == 3);
    assert_true(rd_eof(&s));
    assert_false(rd_u8(&s, &x));
    assert_string_equal(s.err, END);
    assert_int_equal(s.err_off, 3); /* offsets count from the module's start */
}

static void fixed_width(void **state)
{
    (void)state;
    const uint8_t b[] = {0x00, 0x00, 0x80, 0x3F, 0x18, 0x2D, 0x44, 0x54, 0xFB, 0x21, 0x09, 0x40};
    reader r;
    rd_init(&r, b, sizeof b);
    uint32_t f;
    uint64_t d;
    assert_true(rd_f32(&r, &f));
    assert_int_equal(f, 0x3F800000);
    assert_true(rd_f64(&r, &d));
    assert_true(d == 0x400921FB54442D18ull);
    assert_false(rd_f32(&r, &f));
    const uint8_t *p;
    rd_init(&r, b, 3);
    assert_false(rd_bytes(&r, 4, &p));
    assert_string_equal(r.err, END);
    assert_int_equal(r.p - b, 0); /* a failed read consumes nothing */
    assert_true(rd_bytes(&r, 3, &p));
    assert_ptr_equal(p, b);
}

/* len32: a length may not exceed what is left counted from its own first byte ("length out of
 * bounds"); one that fits that but not the bytes after the LEB runs into the end. */
static void vector_lengths(void **state)
{
    (void)state;
    reader r;
    uint32_t n;
    rd_init(&r, B(0x03, 0xAA, 0xBB));
    assert_true(rd_vec_len(&r, 0, &n));
    assert_int_equal(n, 3);
    rd_init(&r, B(0x04, 0xAA, 0xBB));
    assert_false(rd_vec_len(&r, 0, &n));
    assert_string_equal(r.err, "length out of bounds");
    assert_int_equal(r.err_off, 0);
    /* Three bytes from the length's start: 3 fits len32, but 3 one-byte elements do not. */
    rd_init(&r, B(0x03, 0xAA, 0xBB));
    assert_false(rd_vec_len(&r, 1, &n));
    assert_string_equal(r.err, END);
    /* Minimum element sizes refuse hostile counts early. */
    rd_init(&r, B(0x02, 0xAA, 0xBB, 0xCC));
    assert_false(rd_vec_len(&r, 2, &n));
    /* 2^32 - 1 elements in a 6-byte input. */
    rd_init(&r, B(0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00));
    assert_false(rd_vec_len(&r, 0, &n));
    assert_string_equal(r.err, "length out of bounds");
    rd_init(&r, B(0x02, 0xAA, 0xBB));
    assert_true(rd_len(&r, &n));
    assert_int_equal(n, 2);
}

static void names(void **state)
{
    (void)state;
    reader r;
    const char *s;
    uint32_t n;
    rd_init(&r, B(0x03, 'a', 'b', 'c', 0x00));
    assert_true(rd_name(&r, &s, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_int_equal(rd_left(&r), 1);
    rd_init(&r, B(0x00));
    assert_true(rd_name(&r, &s, &n));
    assert_int_equal(n, 0);
    rd_init(&r, B(0x02, 0xC3, 0x28));
    assert_false(rd_name(&r, &s, &n));
    assert_string_equal(r.err, "malformed UTF-8 encoding");
    rd_init(&r, B(0x05, 'a'));
    assert_false(rd_name(&r, &s, &n));
    assert_string_equal(r.err, "length out of bounds");
}

#define UTF8(ok, ...) assert_int_equal(utf8_valid(B(__VA_ARGS__)), ok)

static void utf8(void **state)
{
    (void)state;
    assert_true(utf8_valid((const uint8_t *)"", 0));
    UTF8(true, 'h', 'i', 0x00, 0x7F);                 /* NUL and DEL are characters */
    UTF8(true, 0xC2, 0x80);                           /* U+0080 */
    UTF8(true, 0xDF, 0xBF);                           /* U+07FF */
    UTF8(true, 0xE0, 0xA0, 0x80);                     /* U+0800 */
    UTF8(true, 0xED, 0x9F, 0xBF);                     /* U+D7FF */
    UTF8(true, 0xEE, 0x80, 0x80);                     /* U+E000 */
    UTF8(true, 0xEF, 0xBF, 0xBF);                     /* U+FFFF */
    UTF8(true, 0xF0, 0x90, 0x80, 0x80);               /* U+10000 */
    UTF8(true, 0xF4, 0x8F, 0xBF, 0xBF);               /* U+10FFFF */
    UTF8(true, 0xEF, 0xBB, 0xBF);                     /* a BOM is a character too */
    UTF8(false, 0x80);                                /* lone continuation byte */
    UTF8(false, 0xBF);
    UTF8(false, 0xC0, 0x80);                          /* overlong NUL */
    UTF8(false, 0xC1, 0xBF);                          /* overlong U+007F */
    UTF8(false, 0xE0, 0x9F, 0xBF);                    /* overlong U+07FF */
    UTF8(false, 0xF0, 0x8F, 0xBF, 0xBF);              /* overlong U+FFFF */
    UTF8(false, 0xED, 0xA0, 0x80);                    /* U+D800, a surrogate */
    UTF8(false, 0xED, 0xBF, 0xBF);                    /* U+DFFF */
    UTF8(false, 0xF4, 0x90, 0x80, 0x80);              /* U+110000 */
    UTF8(false, 0xF5, 0x80, 0x80, 0x80);
    UTF8(false, 0xF8, 0x88, 0x80, 0x80, 0x80);        /* 5-byte form */
    UTF8(false, 0xFE);
    UTF8(false, 0xFF);
    UTF8(false, 0xC2);                                /* truncated sequences */
    UTF8(false, 0xE0, 0xA0);
    UTF8(false, 0xF0, 0x90, 0x80);
    UTF8(false, 0xC2, 0x41);                          /* continuation byte missing */
    UTF8(false, 0xE2, 0x82, 0xC0);
    UTF8(false, 'a', 0xF0, 0x90, 0x80, 'b');
    /* The checker must stop at n, not at a NUL, and not read past n. */
    assert_true(utf8_valid((const uint8_t *)"a\xC2\x80", 1));
    assert_false(utf8_valid((const uint8_t *)"a\xC2\x80", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leb_u32),         cmocka_unit_test(leb_s32),   cmocka_unit_test(leb_s33),
        cmocka_unit_test(leb_u64),         cmocka_unit_test(leb_s64),   cmocka_unit_test(first_error_sticks),
        cmocka_unit_test(sub_reader),      cmocka_unit_test(fixed_width), cmocka_unit_test(vector_lengths),
        cmocka_unit_test(names),           cmocka_unit_test(utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
