/* json.c - the spec-test runner's JSON reader (see json.h): recursive descent with a depth
 * bound, containers collected on scratch stacks and copied into one arena when they close. */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JSON_MAX_DEPTH = 256, ARENA_CHUNK = 1 << 20 };

/* ---- arena ------------------------------------------------------------------------------------ */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[]; /* bytes follow */
} arena_chunk;

struct json_doc {
    arena_chunk *chunks;
    json_value root;
};

static void *arena_alloc(json_doc *doc, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    arena_chunk *c = doc->chunks;
    if (!c || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof(arena_chunk) + size);
        if (!c) return NULL;
        c->next = doc->chunks;
        c->used = 0;
        c->size = size;
        doc->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

/* ---- parser state ------------------------------------------------------------------------------ */

typedef struct parser {
    const char *p, *end;
    size_t line;
    json_doc *doc;
    /* Scratch stacks: the elements (members) of every open array (object), innermost last. */
    json_value *vals;
    size_t nvals, capvals;
    json_member *mems;
    size_t nmems, capmems;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static bool fail(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return false;
    ps->failed = true;
    int n = snprintf(ps->err, ps->errlen, "line %zu: ", ps->line);
    if (n < 0) n = 0;
    if ((size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == '\n')
            ps->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        ps->p++;
    }
}

static bool push_val(parser *ps, const json_value *v)
{
    if (ps->nvals == ps->capvals) {
        size_t cap = ps->capvals ? ps->capvals * 2 : 256;
        json_value *n = realloc(ps->vals, cap * sizeof *n);
        if (!n) return fail(ps, "out of memory");
        ps->vals = n;
        ps->capvals = cap;
    }
    ps->vals[ps->nvals++] = *v;
    return true;
}

static bool push_mem(parser *ps, const json_member *m)
{
    if (ps->nmems == ps->capmems) {
        size_t cap = ps->capmems ? ps->capmems * 2 : 256;
        json_member *n = realloc(ps->mems, cap * sizeof *n);
        if (!n) return fail(ps, "out of memory");
        ps->mems = n;
        ps->capmems = cap;
    }
    ps->mems[ps->nmems++] = *m;
    return true;
}

/* ---- scalars ----------------------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *ps, uint32_t *out)
{
    if (ps->end - ps->p < 4) return fail(ps, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(ps->p[i]);
        if (d < 0) return fail(ps, "bad \\u escape");
        v = v << 4 | (uint32_t)d;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads a string starting at the opening quote. The decoded form is never longer than the raw
 * text (an escape of 2, 6 or 12 characters yields at most 1, 3 or 4 bytes), so the raw length
 * sizes the arena block. */
static bool parse_string(parser *ps, const char **out, size_t *outlen)
{
    ps->p++; /* opening quote */
    const char *start = ps->p;
    const char *q = start;
    while (q < ps->end && *q != '"') {
        if (*q == '\\') q++;
        q++;
    }
    if (q >= ps->end) return fail(ps, "unterminated string");
    char *o = arena_alloc(ps->doc, (size_t)(q - start) + 1);
    if (!o) return fail(ps, "out of memory");
    size_t n = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) return fail(ps, "control character in string");
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        char e = *ps->p++;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!read_hex4(ps, &cp)) return false;
            /* A high surrogate followed by a low one is one code point; a lone surrogate is
             * kept as its own three bytes rather than rejected. */
            if (cp >= 0xD800 && cp < 0xDC00 && q - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                const char *save = ps->p;
                uint32_t lo;
                ps->p += 2;
                if (!read_hex4(ps, &lo)) return false;
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    ps->p = save;
            }
            n += put_utf8(o + n, cp);
            break;
        }
        default: return fail(ps, "bad escape '\\%c'", e);
        }
        if (ps->p > q) return fail(ps, "unterminated string");
    }
    o[n] = '\0';
    ps->p = q + 1;
    *out = o;
    *outlen = n;
    return true;
}

static bool parse_number(parser *ps, json_value *v)
{
    const char *s = ps->p, *p = s;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, "bad number");
    while (p < ps->end && *p >= '0' && *p <= '9') p++;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    char buf[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf) return fail(ps, "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    v->type = JSON_NUMBER;
    v->u.number = strtod(buf, NULL);
    ps->p = p;
    return true;
}

static bool parse_word(parser *ps, const char *word, json_value *v, json_type t, bool b)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "unexpected character");
    ps->p += n;
    v->type = t;
    v->u.boolean = b;
    return true;
}

/* ---- containers -------------------------------------------------------------------------------- */

static bool parse_value(parser *ps, json_value *v, int depth);

static bool parse_array(parser *ps, json_value *v, int depth)
{
    size_t base = ps->nvals;
    ps->p++; /* [ */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            json_value item;
            if (!parse_value(ps, &item, depth + 1) || !push_val(ps, &item)) return false;
            skip_ws(ps);
            if (ps->p >= ps->end) return fail(ps, "unterminated array");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == ']') {
                ps->p++;
                break;
            }
            return fail(ps, "expected ',' or ']'");
        }
    }
    size_t count = ps->nvals - base;
    json_value *items = NULL;
    if (count) {
        items = arena_alloc(ps->doc, count * sizeof *items);
        if (!items) return fail(ps, "out of memory");
        memcpy(items, ps->vals + base, count * sizeof *items);
    }
    ps->nvals = base;
    v->type = JSON_ARRAY;
    v->u.array.items = items;
    v->u.array.count = count;
    return true;
}

static bool parse_object(parser *ps, json_value *v, int depth)
{
    size_t base = ps->nmems;
    ps->p++; /* { */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            json_member m;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return fail(ps, "expected a key string");
            if (!parse_string(ps, &m.key, &m.key_len)) return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
            ps->p++;
            if (!parse_value(ps, &m.value, depth + 1) || !push_mem(ps, &m)) return false;
            skip_ws(ps);
            if (ps->p >= ps->end) return fail(ps, "unterminated object");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == '}') {
                ps->p++;
                break;
            }
            return fail(ps, "expected ',' or '}'");
        }
    }
    size_t count = ps->nmems - base;
    json_member *mems = NULL;
    if (count) {
        mems = arena_alloc(ps->doc, count * sizeof *mems);
        if (!mems) return fail(ps, "out of memory");
        memcpy(mems, ps->mems + base, count * sizeof *mems);
    }
    ps->nmems = base;
    v->type = JSON_OBJECT;
    v->u.object.members = mems;
    v->u.object.count = count;
    return true;
}

static bool parse_value(parser *ps, json_value *v, int depth)
{
    if (depth > JSON_MAX_DEPTH) return fail(ps, "nesting deeper than %d", JSON_MAX_DEPTH);
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_object(ps, v, depth);
    case '[': return parse_array(ps, v, depth);
    case '"': v->type = JSON_STRING; return parse_string(ps, &v->u.string.ptr, &v->u.string.len);
    case 't': return parse_word(ps, "true", v, JSON_BOOL, true);
    case 'f': return parse_word(ps, "false", v, JSON_BOOL, false);
    case 'n': return parse_word(ps, "null", v, JSON_NULL, false);
    default: return parse_number(ps, v);
    }
}

/* ---- public ------------------------------------------------------------------------------------ */

json_doc *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    static char dummy[1];
    json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        if (errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    parser ps = {.p = text,
                 .end = text + len,
                 .line = 1,
                 .doc = doc,
                 .err = errlen ? err : dummy,
                 .errlen = errlen ? errlen : sizeof dummy};
    bool ok = parse_value(&ps, &doc->root, 0);
    if (ok) {
        skip_ws(&ps);
        if (ps.p != ps.end) ok = fail(&ps, "trailing characters after the document");
    }
    free(ps.vals);
    free(ps.mems);
    if (!ok) {
        json_free(doc);
        return NULL;
    }
    return doc;
}

void json_free(json_doc *doc)
{
    if (!doc) return;
    arena_chunk *c = doc->chunks;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(doc);
}

const json_value *json_root(const json_doc *doc) { return &doc->root; }

const json_value *json_get(const json_value *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}

const char *json_string(const json_value *v) { return v && v->type == JSON_STRING ? v->u.string.ptr : NULL; }

bool json_string_is(const json_value *v, const char *s)
{
    return v && v->type == JSON_STRING && v->u.string.len == strlen(s) &&
           memcmp(v->u.string.ptr, s, v->u.string.len) == 0;
}

size_t json_array_len(const json_value *v) { return v && v->type == JSON_ARRAY ? v->u.array.count : 0; }

const json_value *json_array_at(const json_value *v, size_t i)
{
    return v && v->type == JSON_ARRAY && i < v->u.array.count ? &v->u.array.items[i] : NULL;
}

bool json_uint(const json_value *v, unsigned long long *out)
{
    if (!v || v->type != JSON_NUMBER) return false;
    double d = v->u.number;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(unsigned long long)d) return false;
    *out = (unsigned long long)d;
    return true;
}
