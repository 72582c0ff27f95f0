/* selftest.c - unit checks of the spec-test runner's own machinery: the JSON reader (json.c)
 * and the value parsing, NaN patterns, v128 lane comparison, reference matching and message
 * agreement (values.c). Run with `k23vm-spec-runner --self-test` (also a CTest test). */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "values.h"

static int n_checks, n_failed;

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        n_checks++;                                                                                          \
        if (!(cond)) {                                                                                       \
            n_failed++;                                                                                      \
            printf("self-test: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                                    \
    } while (0)

/* ---- helpers ----------------------------------------------------------------------------------- */

/* Parses one JSON value given as text. The document stays alive until the next call. */
static json_doc *held;
static const json_value *J(const char *text)
{
    char err[128];
    json_free(held);
    held = json_parse(text, strlen(text), err, sizeof err);
    if (!held) printf("self-test: cannot parse %s: %s\n", text, err);
    return held ? json_root(held) : NULL;
}

static spec_parse_status val(const char *text, spec_val *v)
{
    char err[128];
    return spec_val_parse(J(text), v, err, sizeof err);
}

/* Parses an expectation from text and matches a value against it. */
static bool matches(const char *expect_text, const spec_val *v)
{
    spec_expect e;
    char err[128];
    if (spec_expect_parse(J(expect_text), &e, err, sizeof err) != SPEC_PARSE_OK) {
        printf("self-test: cannot parse expectation %s: %s\n", expect_text, err);
        return false;
    }
    bool m = spec_match(&e, v);
    spec_expect_free(&e);
    return m;
}

static spec_val f32v(uint32_t bits) { return (spec_val){.kind = K23VM_F32, .u.f32 = bits}; }
static spec_val f64v(uint64_t bits) { return (spec_val){.kind = K23VM_F64, .u.f64 = bits}; }

static spec_val v128_f32(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    spec_val v = {.kind = K23VM_V128};
    uint32_t l[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) v.u.v128[i * 4 + k] = (uint8_t)(l[i] >> (8 * k));
    return v;
}

/* ---- json ---------------------------------------------------------------------------------------- */

static void test_json(void)
{
    const json_value *v = J("{\"a\": [1, 2.5, -3e2], \"b\": {\"c\": true, \"d\": null}, \"e\": \"x\"}");
    CHECK(v && v->type == JSON_OBJECT);
    CHECK(json_array_len(json_get(v, "a")) == 3);
    CHECK(json_array_at(json_get(v, "a"), 1)->u.number == 2.5);
    CHECK(json_array_at(json_get(v, "a"), 2)->u.number == -300);
    CHECK(json_array_at(json_get(v, "a"), 3) == NULL);
    CHECK(json_get(json_get(v, "b"), "c")->u.boolean);
    CHECK(json_get(json_get(v, "b"), "d")->type == JSON_NULL);
    CHECK(json_string_is(json_get(v, "e"), "x"));
    CHECK(json_get(v, "missing") == NULL);
    CHECK(json_get(NULL, "a") == NULL && json_string(NULL) == NULL && json_array_len(NULL) == 0);

    unsigned long long u;
    CHECK(json_uint(J("12345"), &u) && u == 12345);
    CHECK(!json_uint(J("-1"), &u));
    CHECK(!json_uint(J("1.5"), &u));
    CHECK(!json_uint(J("\"1\""), &u));

    /* Escapes: NUL inside a name (names.wast), a surrogate pair, raw UTF-8 passed through. */
    v = J("\"a\\u0000b\\u005c\\u0022\\n\"");
    CHECK(v && v->u.string.len == 6 && memcmp(v->u.string.ptr, "a\0b\\\"\n", 6) == 0);
    v = J("\"\\ud83d\\ude00\"");
    CHECK(v && v->u.string.len == 4 && memcmp(v->u.string.ptr, "\xF0\x9F\x98\x80", 4) == 0);
    v = J("\"\xE2\x80\x8B\\u00e9\"");
    CHECK(v && v->u.string.len == 5 && memcmp(v->u.string.ptr, "\xE2\x80\x8B\xC3\xA9", 5) == 0);
    v = J("\"\\ud800x\""); /* a lone surrogate is kept, not fatal */
    CHECK(v && v->u.string.len == 4);
    CHECK(J("[]") && json_array_len(J("[]")) == 0);
    CHECK(J("{}") && J("{}")->type == JSON_OBJECT);

    /* Bad input fails cleanly. */
    static const char *const bad[] = {"",        "{",         "[1,", "[1 2]",      "{\"a\" 1}", "\"abc",
                                      "\"\\q\"", "\"\\u12\"", "tru", "01x",        "[1] x",     "{\"a\":}",
                                      "-",       "1.",        "1e",  "\"a\x01b\"", "{1: 2}",    "\"\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128];
        json_doc *d = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        CHECK(d == NULL);
        json_free(d);
    }
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4001];
    memset(deep, '[', 4000);
    deep[4000] = '\0';
    char err[128];
    json_doc *d = json_parse(deep, 4000, err, sizeof err);
    CHECK(d == NULL && strstr(err, "nesting") != NULL);
    json_free(d);
    /* A tiny error buffer is respected. */
    d = json_parse("{", 1, err, 4);
    CHECK(d == NULL && strlen(err) < 4);
}

/* ---- values --------------------------------------------------------------------------------------- */

static void test_parse_scalars(void)
{
    spec_val v;
    CHECK(val("{\"type\":\"i32\",\"value\":\"4294967295\"}", &v) == SPEC_PARSE_OK && v.kind == K23VM_I32 &&
          v.u.i32 == 0xFFFFFFFFu);
    CHECK(val("{\"type\":\"i32\",\"value\":\"4294967296\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\",\"value\":\"-1\"}", &v) == SPEC_PARSE_OK && v.u.i32 == 0xFFFFFFFFu);
    CHECK(val("{\"type\":\"i32\",\"value\":\"-2147483648\"}", &v) == SPEC_PARSE_OK && v.u.i32 == 0x80000000u);
    CHECK(val("{\"type\":\"i32\",\"value\":\"-2147483649\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i64\",\"value\":\"18446744073709551615\"}", &v) == SPEC_PARSE_OK &&
          v.u.i64 == UINT64_MAX);
    CHECK(val("{\"type\":\"i64\",\"value\":\"18446744073709551616\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i64\",\"value\":\"0x10\"}", &v) == SPEC_PARSE_OK && v.u.i64 == 16);
    CHECK(val("{\"type\":\"f32\",\"value\":\"2143289344\"}", &v) == SPEC_PARSE_OK && v.kind == K23VM_F32 &&
          v.u.f32 == 0x7FC00000u);
    CHECK(val("{\"type\":\"f64\",\"value\":\"9221120237041090560\"}", &v) == SPEC_PARSE_OK &&
          v.u.f64 == 0x7FF8000000000000ull);
    CHECK(val("{\"type\":\"i32\",\"value\":\"\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\",\"value\":\"12a\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\",\"value\":\"-\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\",\"value\":12}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\"}", &v) == SPEC_PARSE_ERROR); /* an argument needs a value */
    CHECK(val("{\"value\":\"1\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("[1]", &v) == SPEC_PARSE_ERROR);
    CHECK(spec_val_parse(NULL, &v, NULL, 0) == SPEC_PARSE_ERROR);
    /* NaN patterns are for results only. */
    CHECK(val("{\"type\":\"f32\",\"value\":\"nan:canonical\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"i32\",\"value\":\"nan:canonical\"}", &v) == SPEC_PARSE_ERROR);
    /* Types from later proposals are unsupported, not errors. */
    CHECK(val("{\"type\":\"anyref\",\"value\":\"null\"}", &v) == SPEC_PARSE_UNSUPPORTED);
    CHECK(val("{\"type\":\"exnref\",\"value\":\"null\"}", &v) == SPEC_PARSE_UNSUPPORTED);

    CHECK(val("{\"type\":\"externref\",\"value\":\"null\"}", &v) == SPEC_PARSE_OK &&
          v.kind == K23VM_EXTERNREF && v.u.ref.is_null);
    CHECK(val("{\"type\":\"externref\",\"value\":\"7\"}", &v) == SPEC_PARSE_OK && !v.u.ref.is_null &&
          v.u.ref.id == 7);
    CHECK(val("{\"type\":\"funcref\",\"value\":\"null\"}", &v) == SPEC_PARSE_OK && v.kind == K23VM_FUNCREF &&
          v.u.ref.is_null);
    CHECK(val("{\"type\":\"externref\",\"value\":\"nil\"}", &v) == SPEC_PARSE_ERROR);
}

static void test_parse_v128(void)
{
    spec_val v;
    CHECK(
        val("{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"255\",\"1\",\"0\",\"0\",\"0\",\"0\",\"0\","
            "\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"128\"]}",
            &v) == SPEC_PARSE_OK &&
        v.kind == K23VM_V128 && v.u.v128[0] == 255 && v.u.v128[1] == 1 && v.u.v128[15] == 128);
    /* Lanes are little-endian, lane 0 at byte 0. */
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i16\",\"value\":[\"258\",\"65535\",\"0\",\"0\",\"0\",\"0\","
              "\"0\",\"3\"]}",
              &v) == SPEC_PARSE_OK &&
          v.u.v128[0] == 2 && v.u.v128[1] == 1 && v.u.v128[2] == 0xFF && v.u.v128[3] == 0xFF &&
          v.u.v128[14] == 3);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"1\",\"18446744073709551615\"]}", &v) ==
              SPEC_PARSE_OK &&
          v.u.v128[0] == 1 && v.u.v128[7] == 0 && v.u.v128[8] == 0xFF && v.u.v128[15] == 0xFF);
    CHECK(
        val("{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"1065353216\",\"0\",\"0\",\"2143289344\"]}",
            &v) == SPEC_PARSE_OK &&
        v.u.v128[2] == 0x80 && v.u.v128[3] == 0x3F && v.u.v128[14] == 0xC0 && v.u.v128[15] == 0x7F);
    CHECK(
        val("{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"256\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\","
            "\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"]}",
            &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"-1\",\"-128\",\"0\",\"0\",\"0\",\"0\","
              "\"0\","
              "\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"]}",
              &v) == SPEC_PARSE_OK &&
          v.u.v128[0] == 0xFF && v.u.v128[1] == 0x80);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"2\",\"3\"]}", &v) ==
          SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":\"1\"}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"v128\",\"value\":[\"1\",\"2\",\"3\",\"4\"]}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"i128\",\"value\":[\"1\"]}", &v) == SPEC_PARSE_ERROR);
    CHECK(val("{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\",\"0\",\"0\",\"0\"]}",
              &v) == SPEC_PARSE_ERROR);
}

static void test_nan_predicates(void)
{
    CHECK(spec_f32_is_canonical_nan(0x7FC00000u) && spec_f32_is_canonical_nan(0xFFC00000u));
    CHECK(!spec_f32_is_canonical_nan(0x7FC00001u) && !spec_f32_is_canonical_nan(0x7F800001u));
    CHECK(!spec_f32_is_canonical_nan(0x7F800000u) && !spec_f32_is_canonical_nan(0x3F800000u));
    CHECK(spec_f32_is_arithmetic_nan(0x7FC00000u) && spec_f32_is_arithmetic_nan(0xFFC00001u));
    CHECK(spec_f32_is_arithmetic_nan(0x7FFFFFFFu));
    CHECK(!spec_f32_is_arithmetic_nan(0x7FA00000u) && !spec_f32_is_arithmetic_nan(0x7F800001u));
    CHECK(!spec_f32_is_arithmetic_nan(0x7F800000u) && !spec_f32_is_arithmetic_nan(0xFF800000u));
    CHECK(spec_f64_is_canonical_nan(0x7FF8000000000000ull) &&
          spec_f64_is_canonical_nan(0xFFF8000000000000ull));
    CHECK(!spec_f64_is_canonical_nan(0x7FF8000000000001ull) &&
          !spec_f64_is_canonical_nan(0x7FF0000000000001ull));
    CHECK(!spec_f64_is_canonical_nan(0x7FF0000000000000ull));
    CHECK(spec_f64_is_arithmetic_nan(0x7FF8000000000001ull) &&
          spec_f64_is_arithmetic_nan(0xFFFFFFFFFFFFFFFFull));
    CHECK(!spec_f64_is_arithmetic_nan(0x7FF4000000000000ull) &&
          !spec_f64_is_arithmetic_nan(0x7FF0000000000000ull));
}

static void test_match_scalars(void)
{
    spec_val i = {.kind = K23VM_I32, .u.i32 = 42};
    CHECK(matches("{\"type\":\"i32\",\"value\":\"42\"}", &i));
    CHECK(!matches("{\"type\":\"i32\",\"value\":\"43\"}", &i));
    CHECK(!matches("{\"type\":\"i64\",\"value\":\"42\"}", &i)); /* kind must agree */
    CHECK(matches("{\"type\":\"i32\"}", &i));                   /* type only: any i32 */
    CHECK(!matches("{\"type\":\"f32\"}", &i));
    spec_val l = {.kind = K23VM_I64, .u.i64 = 0x8000000000000000ull};
    CHECK(matches("{\"type\":\"i64\",\"value\":\"9223372036854775808\"}", &l));

    /* Floats are bit-exact: -0 is not +0, and a specific NaN needs its exact payload. */
    spec_val pz = f32v(0), nz = f32v(0x80000000u);
    CHECK(matches("{\"type\":\"f32\",\"value\":\"0\"}", &pz));
    CHECK(!matches("{\"type\":\"f32\",\"value\":\"0\"}", &nz));
    spec_val nan1 = f32v(0x7FA00000u);
    CHECK(matches("{\"type\":\"f32\",\"value\":\"2141192192\"}", &nan1));
    CHECK(!matches("{\"type\":\"f32\",\"value\":\"2143289344\"}", &nan1));
    /* NaN patterns. */
    spec_val can = f32v(0x7FC00000u), ncan = f32v(0xFFC00000u), arith = f32v(0x7FC00001u),
             sig = f32v(0x7F800001u);
    spec_val one = f32v(0x3F800000u), inf = f32v(0x7F800000u);
    const char *fc = "{\"type\":\"f32\",\"value\":\"nan:canonical\"}";
    const char *fa = "{\"type\":\"f32\",\"value\":\"nan:arithmetic\"}";
    CHECK(matches(fc, &can) && matches(fc, &ncan) && !matches(fc, &arith) && !matches(fc, &sig));
    CHECK(!matches(fc, &one) && !matches(fc, &inf));
    CHECK(matches(fa, &can) && matches(fa, &ncan) && matches(fa, &arith) && !matches(fa, &sig));
    CHECK(!matches(fa, &one) && !matches(fa, &inf));
    spec_val dcan = f64v(0x7FF8000000000000ull), darith = f64v(0xFFF8000000000001ull);
    spec_val dsig = f64v(0x7FF0000000000001ull);
    const char *dc = "{\"type\":\"f64\",\"value\":\"nan:canonical\"}";
    const char *da = "{\"type\":\"f64\",\"value\":\"nan:arithmetic\"}";
    CHECK(matches(dc, &dcan) && !matches(dc, &darith) && !matches(dc, &dsig));
    CHECK(matches(da, &dcan) && matches(da, &darith) && !matches(da, &dsig));
    CHECK(!matches(dc, &can)); /* an f32 NaN is not an f64 */
    spec_val dmz = f64v(0x8000000000000000ull);
    CHECK(matches("{\"type\":\"f64\",\"value\":\"9223372036854775808\"}", &dmz));
    CHECK(!matches("{\"type\":\"f64\",\"value\":\"0\"}", &dmz));
}

static void test_match_v128(void)
{
    const char *e =
        "{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\",\"nan:arithmetic\","
        "\"1065353216\",\"0\"]}";
    spec_val ok = v128_f32(0xFFC00000u, 0x7FC00123u, 0x3F800000u, 0);
    CHECK(matches(e, &ok));
    spec_val bad0 = v128_f32(0x7FC00001u, 0x7FC00123u, 0x3F800000u, 0); /* lane 0 not canonical */
    CHECK(!matches(e, &bad0));
    spec_val bad1 = v128_f32(0x7FC00000u, 0x7F800001u, 0x3F800000u, 0); /* lane 1 signalling */
    CHECK(!matches(e, &bad1));
    spec_val bad3 = v128_f32(0x7FC00000u, 0x7FC00000u, 0x3F800000u, 0x80000000u); /* -0 in lane 3 */
    CHECK(!matches(e, &bad3));
    spec_val i = {.kind = K23VM_I32};
    CHECK(!matches(e, &i));

    /* The same bits read as i32x4, i8x16 and i64x2. */
    spec_val x = v128_f32(1, 2, 3, 0xFFFFFFFFu);
    CHECK(matches("{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"2\",\"3\",\"4294967295\"]}",
                  &x));
    CHECK(!matches("{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"1\",\"2\",\"3\",\"4294967294\"]}",
                   &x));
    CHECK(matches(
        "{\"type\":\"v128\",\"lane_type\":\"i8\",\"value\":[\"1\",\"0\",\"0\",\"0\",\"2\",\"0\",\"0\","
        "\"0\",\"3\",\"0\",\"0\",\"0\",\"255\",\"255\",\"255\",\"255\"]}",
        &x));
    CHECK(matches(
        "{\"type\":\"v128\",\"lane_type\":\"i64\",\"value\":[\"8589934593\",\"18446744069414584323\"]}", &x));
    /* f64 lanes with patterns. */
    spec_val d = {.kind = K23VM_V128};
    uint64_t l0 = 0xFFF8000000000000ull, l1 = 0x7FF8000000000001ull;
    for (int k = 0; k < 8; k++) {
        d.u.v128[k] = (uint8_t)(l0 >> (8 * k));
        d.u.v128[8 + k] = (uint8_t)(l1 >> (8 * k));
    }
    CHECK(matches(
        "{\"type\":\"v128\",\"lane_type\":\"f64\",\"value\":[\"nan:canonical\",\"nan:arithmetic\"]}", &d));
    CHECK(!matches(
        "{\"type\":\"v128\",\"lane_type\":\"f64\",\"value\":[\"nan:canonical\",\"nan:canonical\"]}", &d));
    CHECK(matches("{\"type\":\"v128\"}", &d));
}

static void test_match_refs(void)
{
    spec_val enull = {.kind = K23VM_EXTERNREF, .u.ref = {true, 0}};
    spec_val e1 = {.kind = K23VM_EXTERNREF, .u.ref = {false, 1}};
    spec_val e2 = {.kind = K23VM_EXTERNREF, .u.ref = {false, 2}};
    spec_val fnull = {.kind = K23VM_FUNCREF, .u.ref = {true, 0}};
    spec_val f = {.kind = K23VM_FUNCREF, .u.ref = {false, 0x1234}};
    const char *xn = "{\"type\":\"externref\",\"value\":\"null\"}";
    const char *x1 = "{\"type\":\"externref\",\"value\":\"1\"}";
    const char *fn = "{\"type\":\"funcref\",\"value\":\"null\"}";
    CHECK(matches(xn, &enull) && !matches(xn, &e1) && !matches(xn, &fnull));
    CHECK(matches(x1, &e1) && !matches(x1, &e2) && !matches(x1, &enull));
    CHECK(matches(fn, &fnull) && !matches(fn, &f) && !matches(fn, &enull));
    CHECK(matches("{\"type\":\"funcref\",\"value\":\"5\"}", &f)); /* non-null: any function */
    CHECK(!matches("{\"type\":\"funcref\",\"value\":\"5\"}", &fnull));
    CHECK(matches("{\"type\":\"funcref\"}", &f) && matches("{\"type\":\"funcref\"}", &fnull));
}

static void test_either(void)
{
    const char *e = "{\"type\":\"either\",\"values\":[{\"type\":\"i32\",\"value\":\"1\"},"
                    "{\"type\":\"i32\",\"value\":\"2\"}]}";
    spec_val one = {.kind = K23VM_I32, .u.i32 = 1}, two = {.kind = K23VM_I32, .u.i32 = 2};
    spec_val three = {.kind = K23VM_I32, .u.i32 = 3};
    CHECK(matches(e, &one) && matches(e, &two) && !matches(e, &three));
    spec_expect x;
    char err[128];
    CHECK(spec_expect_parse(J("{\"type\":\"either\",\"values\":[]}"), &x, err, sizeof err) ==
          SPEC_PARSE_ERROR);
    CHECK(spec_expect_parse(J("{\"type\":\"either\",\"values\":[{\"type\":\"i32\",\"value\":\"1\"},{\"type\":"
                              "\"i32\",\"value\":\"z\"}]}"),
                            &x, err, sizeof err) == SPEC_PARSE_ERROR);
}

static void test_format(void)
{
    char buf[256];
    spec_val i = {.kind = K23VM_I32, .u.i32 = 42};
    spec_val_format(&i, SPEC_LANE_I32, buf, sizeof buf);
    CHECK(strcmp(buf, "i32:42 (0x0000002a)") == 0);
    spec_val x = v128_f32(1, 2, 3, 4);
    spec_val_format(&x, SPEC_LANE_I32, buf, sizeof buf);
    CHECK(strcmp(buf, "v128:i32x4 1 2 3 4") == 0);
    spec_val e = {.kind = K23VM_EXTERNREF, .u.ref = {false, 9}};
    spec_val_format(&e, SPEC_LANE_I32, buf, sizeof buf);
    CHECK(strcmp(buf, "externref:9") == 0);
    spec_expect ex;
    char err[128];
    CHECK(spec_expect_parse(J("{\"type\":\"f64\",\"value\":\"nan:arithmetic\"}"), &ex, err, sizeof err) ==
          SPEC_PARSE_OK);
    spec_expect_format(&ex, buf, sizeof buf);
    CHECK(strcmp(buf, "f64:nan:arithmetic") == 0);
    CHECK(spec_expect_parse(
              J("{\"type\":\"v128\",\"lane_type\":\"f32\",\"value\":[\"nan:canonical\",\"0\",\"0\","
                "\"1065353216\"]}"),
              &ex, err, sizeof err) == SPEC_PARSE_OK);
    spec_expect_format(&ex, buf, sizeof buf);
    CHECK(strcmp(buf, "v128:f32x4 nan:canonical 0x00000000 0x00000000 0x3f800000") == 0);
    /* Short buffers truncate and stay terminated. */
    spec_val_format(&x, SPEC_LANE_I8, buf, 5);
    CHECK(strlen(buf) == 4);
    spec_val_format(&x, SPEC_LANE_I8, buf, 1);
    CHECK(buf[0] == '\0');
    spec_val_format(&x, SPEC_LANE_I8, buf, 0);
}

static void test_messages(void)
{
    CHECK(spec_messages_agree("unexpected end", "unexpected end of section or function: at 0x1c"));
    CHECK(spec_messages_agree("unknown import: spectest.foo", "unknown import"));
    CHECK(spec_messages_agree("type mismatch", "type mismatch"));
    CHECK(spec_messages_agree("", "anything"));
    CHECK(!spec_messages_agree("type mismatch", "unknown type"));
    CHECK(!spec_messages_agree("integer overflow", "integer divide by zero"));
}

int spec_self_test(int *checks)
{
    n_checks = n_failed = 0;
    test_json();
    test_parse_scalars();
    test_parse_v128();
    test_nan_predicates();
    test_match_scalars();
    test_match_v128();
    test_match_refs();
    test_either();
    test_format();
    test_messages();
    json_free(held);
    held = NULL;
    *checks = n_checks;
    return n_failed;
}
