/* values.c - parsing wast2json values and expected results, and matching results against them
 * (see values.h for the JSON forms and the matching rules). */
#include "values.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lanes ------------------------------------------------------------------------------------- */

int spec_lane_count(spec_lane lane)
{
    switch (lane) {
    case SPEC_LANE_I8: return 16;
    case SPEC_LANE_I16: return 8;
    case SPEC_LANE_I32:
    case SPEC_LANE_F32: return 4;
    case SPEC_LANE_I64:
    case SPEC_LANE_F64: return 2;
    }
    return 4;
}

const char *spec_lane_name(spec_lane lane)
{
    switch (lane) {
    case SPEC_LANE_I8: return "i8x16";
    case SPEC_LANE_I16: return "i16x8";
    case SPEC_LANE_I32: return "i32x4";
    case SPEC_LANE_I64: return "i64x2";
    case SPEC_LANE_F32: return "f32x4";
    case SPEC_LANE_F64: return "f64x2";
    }
    return "?";
}

static int lane_bytes(spec_lane lane) { return 16 / spec_lane_count(lane); }

static bool lane_is_float(spec_lane lane) { return lane == SPEC_LANE_F32 || lane == SPEC_LANE_F64; }

static uint64_t lane_get(const uint8_t *v128, spec_lane lane, int i)
{
    int w = lane_bytes(lane);
    uint64_t x = 0;
    for (int b = w - 1; b >= 0; b--) x = x << 8 | v128[i * w + b];
    return x;
}

static void lane_set(uint8_t *v128, spec_lane lane, int i, uint64_t x)
{
    int w = lane_bytes(lane);
    for (int b = 0; b < w; b++) v128[i * w + b] = (uint8_t)(x >> (8 * b));
}

static bool lane_parse(const char *s, spec_lane *out)
{
    static const struct {
        const char *name;
        spec_lane lane;
    } names[] = {{"i8", SPEC_LANE_I8},   {"i16", SPEC_LANE_I16}, {"i32", SPEC_LANE_I32},
                 {"i64", SPEC_LANE_I64}, {"f32", SPEC_LANE_F32}, {"f64", SPEC_LANE_F64}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].lane;
            return true;
        }
    }
    return false;
}

const char *spec_kind_name(k23vm_valkind kind)
{
    switch (kind) {
    case K23VM_I32: return "i32";
    case K23VM_I64: return "i64";
    case K23VM_F32: return "f32";
    case K23VM_F64: return "f64";
    case K23VM_V128: return "v128";
    case K23VM_FUNCREF: return "funcref";
    case K23VM_EXTERNREF: return "externref";
    }
    return "?";
}

/* ---- float predicates -------------------------------------------------------------------------- */

/* Spec 4.3.3: a canonical NaN has only the payload's top bit set; an arithmetic NaN has at least
 * that bit set. Either may have either sign. */
bool spec_f32_is_canonical_nan(uint32_t b) { return (b & 0x7FFFFFFFu) == 0x7FC00000u; }
bool spec_f32_is_arithmetic_nan(uint32_t b) { return (b & 0x7FC00000u) == 0x7FC00000u; }
bool spec_f64_is_canonical_nan(uint64_t b) { return (b & 0x7FFFFFFFFFFFFFFFull) == 0x7FF8000000000000ull; }
bool spec_f64_is_arithmetic_nan(uint64_t b) { return (b & 0x7FF8000000000000ull) == 0x7FF8000000000000ull; }

/* ---- parsing ------------------------------------------------------------------------------------ */

static spec_parse_status perr(char *err, size_t errlen, const char *msg, const char *what)
{
    snprintf(err, errlen, "%s%s%s%s", msg, what ? " '" : "", what ? what : "", what ? "'" : "");
    return SPEC_PARSE_ERROR;
}

/* An integer of the bit pattern mask (0xFF .. all ones): unsigned decimal as wast2json writes
 * it, or negative decimal / 0x-hex for robustness; wraps nothing, rejects everything else. */
static bool parse_bits(const char *s, uint64_t mask, uint64_t *out)
{
    if (!s || !*s) return false;
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base) return false;
        v = v * base + d;
    }
    if (neg) {
        uint64_t lim = (mask >> 1) + 1; /* magnitude of the most negative value */
        if (v > lim) return false;
        v = (0 - v) & mask;
    } else if (v > mask) {
        return false;
    }
    *out = v;
    return true;
}

static bool type_parse(const char *s, k23vm_valkind *out)
{
    static const struct {
        const char *name;
        k23vm_valkind kind;
    } names[] = {{"i32", K23VM_I32},
                 {"i64", K23VM_I64},
                 {"f32", K23VM_F32},
                 {"f64", K23VM_F64},
                 {"v128", K23VM_V128},
                 {"funcref", K23VM_FUNCREF},
                 {"externref", K23VM_EXTERNREF}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].kind;
            return true;
        }
    }
    return false;
}

static uint64_t kind_mask(k23vm_valkind k)
{
    return k == K23VM_I32 || k == K23VM_F32 ? 0xFFFFFFFFull : UINT64_MAX;
}

static bool is_nan_pattern(const char *s, spec_pat *pat)
{
    if (s && strcmp(s, "nan:canonical") == 0) {
        *pat = SPEC_PAT_NAN_CANONICAL;
        return true;
    }
    if (s && strcmp(s, "nan:arithmetic") == 0) {
        *pat = SPEC_PAT_NAN_ARITHMETIC;
        return true;
    }
    return false;
}

/* The common part of arguments and expectations. allow_patterns admits NaN patterns and a
 * missing value; e may be NULL when they are not admitted. */
static spec_parse_status parse_common(const json_value *j, spec_val *out, spec_expect *e, char *err,
                                      size_t errlen)
{
    bool allow_patterns = e != NULL;
    if (!j || j->type != JSON_OBJECT) return perr(err, errlen, "value is not an object", NULL);
    const char *type = json_string(json_get(j, "type"));
    if (!type) return perr(err, errlen, "value has no type", NULL);
    memset(out, 0, sizeof *out);
    if (!type_parse(type, &out->kind)) {
        snprintf(err, errlen, "value type '%s' is not supported", type);
        return SPEC_PARSE_UNSUPPORTED;
    }
    const json_value *jv = json_get(j, "value");
    if (!jv) {
        if (!allow_patterns) return perr(err, errlen, "argument without a value", NULL);
        e->pat = SPEC_PAT_ANY;
        return SPEC_PARSE_OK;
    }
    switch (out->kind) {
    case K23VM_I32:
    case K23VM_I64:
    case K23VM_F32:
    case K23VM_F64: {
        const char *s = json_string(jv);
        if (!s) return perr(err, errlen, "value is not a string", NULL);
        spec_pat pat;
        if ((out->kind == K23VM_F32 || out->kind == K23VM_F64) && is_nan_pattern(s, &pat)) {
            if (!allow_patterns) return perr(err, errlen, "NaN pattern as an argument", s);
            e->pat = pat;
            return SPEC_PARSE_OK;
        }
        uint64_t bits;
        if (!parse_bits(s, kind_mask(out->kind), &bits)) return perr(err, errlen, "bad number", s);
        if (out->kind == K23VM_I32)
            out->u.i32 = (uint32_t)bits;
        else if (out->kind == K23VM_F32)
            out->u.f32 = (uint32_t)bits;
        else if (out->kind == K23VM_I64)
            out->u.i64 = bits;
        else
            out->u.f64 = bits;
        return SPEC_PARSE_OK;
    }
    case K23VM_V128: {
        spec_lane lane;
        const char *lt = json_string(json_get(j, "lane_type"));
        if (!lane_parse(lt, &lane)) return perr(err, errlen, "bad v128 lane_type", lt ? lt : "(none)");
        int n = spec_lane_count(lane);
        if (jv->type != JSON_ARRAY || json_array_len(jv) != (size_t)n)
            return perr(err, errlen, "v128 value is not an array of the lane count", NULL);
        uint64_t mask = lane_bytes(lane) == 8 ? UINT64_MAX : (1ull << (8 * lane_bytes(lane))) - 1;
        if (e) e->lane = lane;
        for (int i = 0; i < n; i++) {
            const char *s = json_string(json_array_at(jv, (size_t)i));
            if (!s) return perr(err, errlen, "v128 lane is not a string", NULL);
            spec_pat pat;
            if (lane_is_float(lane) && is_nan_pattern(s, &pat)) {
                if (!allow_patterns) return perr(err, errlen, "NaN pattern as an argument", s);
                e->lane_pat[i] = (uint8_t)pat;
                continue;
            }
            uint64_t bits;
            if (!parse_bits(s, mask, &bits)) return perr(err, errlen, "bad v128 lane", s);
            lane_set(out->u.v128, lane, i, bits);
        }
        return SPEC_PARSE_OK;
    }
    case K23VM_FUNCREF:
    case K23VM_EXTERNREF: {
        const char *s = json_string(jv);
        if (!s) return perr(err, errlen, "reference value is not a string", NULL);
        if (strcmp(s, "null") == 0) {
            out->u.ref.is_null = true;
            return SPEC_PARSE_OK;
        }
        if (!parse_bits(s, UINT64_MAX, &out->u.ref.id)) return perr(err, errlen, "bad reference", s);
        return SPEC_PARSE_OK;
    }
    }
    return perr(err, errlen, "unhandled value type", type);
}

spec_parse_status spec_val_parse(const json_value *j, spec_val *out, char *err, size_t errlen)
{
    return parse_common(j, out, NULL, err, errlen);
}

spec_parse_status spec_expect_parse(const json_value *j, spec_expect *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->pat = SPEC_PAT_EXACT;
    if (j && j->type == JSON_OBJECT && json_string_is(json_get(j, "type"), "either")) {
        const json_value *vs = json_get(j, "values");
        size_t n = json_array_len(vs);
        if (n == 0) return perr(err, errlen, "'either' without values", NULL);
        spec_expect *alts = calloc(n, sizeof *alts);
        if (!alts) return perr(err, errlen, "out of memory", NULL);
        out->pat = SPEC_PAT_EITHER;
        out->alts = alts;
        for (size_t i = 0; i < n; i++) {
            spec_parse_status st = spec_expect_parse(json_array_at(vs, i), &alts[i], err, errlen);
            if (st != SPEC_PARSE_OK) {
                spec_expect_free(out);
                return st;
            }
            out->nalts = i + 1;
        }
        return SPEC_PARSE_OK;
    }
    return parse_common(j, &out->val, out, err, errlen);
}

void spec_expect_free(spec_expect *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->nalts; i++) spec_expect_free(&e->alts[i]);
    free(e->alts);
    e->alts = NULL;
    e->nalts = 0;
}

/* ---- matching ---------------------------------------------------------------------------------- */

static bool match_f32(spec_pat pat, uint32_t want, uint32_t got)
{
    switch (pat) {
    case SPEC_PAT_NAN_CANONICAL: return spec_f32_is_canonical_nan(got);
    case SPEC_PAT_NAN_ARITHMETIC: return spec_f32_is_arithmetic_nan(got);
    case SPEC_PAT_ANY: return true;
    default: return want == got;
    }
}

static bool match_f64(spec_pat pat, uint64_t want, uint64_t got)
{
    switch (pat) {
    case SPEC_PAT_NAN_CANONICAL: return spec_f64_is_canonical_nan(got);
    case SPEC_PAT_NAN_ARITHMETIC: return spec_f64_is_arithmetic_nan(got);
    case SPEC_PAT_ANY: return true;
    default: return want == got;
    }
}

bool spec_match(const spec_expect *e, const spec_val *v)
{
    if (e->pat == SPEC_PAT_EITHER) {
        for (size_t i = 0; i < e->nalts; i++)
            if (spec_match(&e->alts[i], v)) return true;
        return false;
    }
    if (e->val.kind != v->kind) return false;
    if (e->pat == SPEC_PAT_ANY) return true;
    switch (v->kind) {
    case K23VM_I32: return e->val.u.i32 == v->u.i32;
    case K23VM_I64: return e->val.u.i64 == v->u.i64;
    case K23VM_F32: return match_f32(e->pat, e->val.u.f32, v->u.f32);
    case K23VM_F64: return match_f64(e->pat, e->val.u.f64, v->u.f64);
    case K23VM_V128:
        for (int i = 0; i < spec_lane_count(e->lane); i++) {
            uint64_t want = lane_get(e->val.u.v128, e->lane, i), got = lane_get(v->u.v128, e->lane, i);
            spec_pat pat = (spec_pat)e->lane_pat[i];
            bool ok = e->lane == SPEC_LANE_F32   ? match_f32(pat, (uint32_t)want, (uint32_t)got)
                      : e->lane == SPEC_LANE_F64 ? match_f64(pat, want, got)
                                                 : want == got;
            if (!ok) return false;
        }
        return true;
    case K23VM_FUNCREF:
        /* The script can only name a function reference by nullness: (ref.func) carries no
         * identity the runner could compare. */
        return e->val.u.ref.is_null == v->u.ref.is_null;
    case K23VM_EXTERNREF:
        if (e->val.u.ref.is_null || v->u.ref.is_null) return e->val.u.ref.is_null == v->u.ref.is_null;
        return e->val.u.ref.id == v->u.ref.id;
    }
    return false;
}

/* ---- formatting ---------------------------------------------------------------------------------- */

/* A bounded appender: never writes past len, always leaves buf NUL-terminated. */
typedef struct sbuf {
    char *p;
    size_t len, used;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->len == 0 || b->used >= b->len - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    b->used += (size_t)n;
    if (b->used >= b->len) b->used = b->len - 1;
}

static void fmt_f32(sbuf *b, uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    sb_printf(b, "%.9g (0x%08" PRIx32 ")", (double)f, bits);
}

static void fmt_f64(sbuf *b, uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    sb_printf(b, "%.17g (0x%016" PRIx64 ")", d, bits);
}

static const char *pat_name(spec_pat p)
{
    return p == SPEC_PAT_NAN_CANONICAL    ? "nan:canonical"
           : p == SPEC_PAT_NAN_ARITHMETIC ? "nan:arithmetic"
                                          : "?";
}

static void fmt_v128(sbuf *b, const uint8_t *v, spec_lane lane, const uint8_t *lane_pat)
{
    sb_printf(b, "%s", spec_lane_name(lane));
    for (int i = 0; i < spec_lane_count(lane); i++) {
        uint64_t x = lane_get(v, lane, i);
        if (lane_pat && lane_pat[i] != SPEC_PAT_EXACT)
            sb_printf(b, " %s", pat_name((spec_pat)lane_pat[i]));
        else if (lane == SPEC_LANE_F32)
            sb_printf(b, " 0x%08" PRIx64, x);
        else if (lane == SPEC_LANE_F64)
            sb_printf(b, " 0x%016" PRIx64, x);
        else
            sb_printf(b, " %" PRIu64, x);
    }
}

static void fmt_val(sbuf *b, const spec_val *v, spec_lane lane, const uint8_t *lane_pat)
{
    sb_printf(b, "%s:", spec_kind_name(v->kind));
    switch (v->kind) {
    case K23VM_I32: sb_printf(b, "%" PRIu32 " (0x%08" PRIx32 ")", v->u.i32, v->u.i32); break;
    case K23VM_I64: sb_printf(b, "%" PRIu64 " (0x%016" PRIx64 ")", v->u.i64, v->u.i64); break;
    case K23VM_F32: fmt_f32(b, v->u.f32); break;
    case K23VM_F64: fmt_f64(b, v->u.f64); break;
    case K23VM_V128: fmt_v128(b, v->u.v128, lane, lane_pat); break;
    case K23VM_FUNCREF:
    case K23VM_EXTERNREF:
        if (v->u.ref.is_null)
            sb_printf(b, "null");
        else if (v->kind == K23VM_EXTERNREF)
            sb_printf(b, "%" PRIu64, v->u.ref.id);
        else
            sb_printf(b, "non-null");
        break;
    default: sb_printf(b, "?"); break;
    }
}

void spec_val_format(const spec_val *v, spec_lane lane, char *buf, size_t len)
{
    sbuf b = {buf, len, 0};
    if (len) buf[0] = '\0';
    fmt_val(&b, v, lane, NULL);
}

void spec_expect_format(const spec_expect *e, char *buf, size_t len)
{
    sbuf b = {buf, len, 0};
    if (len) buf[0] = '\0';
    switch (e->pat) {
    case SPEC_PAT_EITHER:
        sb_printf(&b, "either(");
        for (size_t i = 0; i < e->nalts; i++) {
            char sub[256];
            spec_expect_format(&e->alts[i], sub, sizeof sub);
            sb_printf(&b, "%s%s", i ? " | " : "", sub);
        }
        sb_printf(&b, ")");
        break;
    case SPEC_PAT_ANY: sb_printf(&b, "%s:any", spec_kind_name(e->val.kind)); break;
    case SPEC_PAT_NAN_CANONICAL:
    case SPEC_PAT_NAN_ARITHMETIC:
        sb_printf(&b, "%s:%s", spec_kind_name(e->val.kind), pat_name(e->pat));
        break;
    case SPEC_PAT_EXACT: fmt_val(&b, &e->val, e->lane, e->lane_pat); break;
    }
}

/* ---- messages -------------------------------------------------------------------------------------- */

bool spec_messages_agree(const char *expected, const char *actual)
{
    size_t a = strlen(expected), b = strlen(actual);
    return memcmp(expected, actual, a < b ? a : b) == 0;
}
