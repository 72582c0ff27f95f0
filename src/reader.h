/* reader.h - bounded byte reader and LEB128 decoding (spec 5.1.2, 5.2.2).
 *
 * The hottest code of decode and validation, so it is inline, reports failure as a bool and keeps
 * the first failure's static message and offset in the reader; the caller turns that into a
 * k23vm_error once.
 *
 * Running out of bytes is "unexpected end of section or function" wherever it happens: the
 * reference interpreter reports every end of input that way, and the spec tests match messages by
 * prefix, so the tests that expect plain "unexpected end" accept it too. (decode.c says plain
 * "unexpected end" for a truncated module header.) Lengths follow the reference interpreter's
 * len32: a length larger than what is left from the length's own first byte to the reader's end
 * is "length out of bounds"; one that fits that but not the bytes after the LEB runs into the end.
 */
#ifndef K23VM_READER_H
#define K23VM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct reader {
    const uint8_t *p, *end; /* current position and bound of this (sub-)reader */
    const uint8_t *base;    /* start of the module: offsets are measured from here */
    const uint8_t *mod_end; /* end of the module */
    const char *err;        /* first failure's message, NULL while all is well */
    size_t err_off;
} reader;

K23VM_INLINE void rd_init(reader *r, const uint8_t *bytes, size_t len)
{
    r->p = r->base = bytes;
    r->end = r->mod_end = bytes + len;
    r->err = NULL;
    r->err_off = 0;
}

/* A reader for [r->p, r->p + len) that shares r's base; the caller checked len fits. */
K23VM_INLINE reader rd_sub(const reader *r, size_t len)
{
    reader s = *r;
    s.end = r->p + len;
    return s;
}

K23VM_INLINE size_t rd_offset(const reader *r, const uint8_t *at) { return (size_t)(at - r->base); }
K23VM_INLINE size_t rd_left(const reader *r) { return (size_t)(r->end - r->p); }
K23VM_INLINE bool rd_eof(const reader *r) { return r->p >= r->end; }

K23VM_COLD bool rd_fail_at(reader *r, const uint8_t *at, const char *msg);
/* "unexpected end of section or function" at the current position. */
K23VM_COLD bool rd_fail_end(reader *r);

K23VM_INLINE bool rd_u8(reader *r, uint8_t *out)
{
    if (K23VM_UNLIKELY(r->p >= r->end)) return rd_fail_end(r);
    *out = *r->p++;
    return true;
}

/* n raw bytes; *out points into the module. */
K23VM_INLINE bool rd_bytes(reader *r, size_t n, const uint8_t **out)
{
    if (K23VM_UNLIKELY(n > rd_left(r))) return rd_fail_end(r);
    *out = r->p;
    r->p += n;
    return true;
}

bool rd_u32_slow(reader *r, uint32_t *out);
bool rd_s32_slow(reader *r, int32_t *out);
bool rd_u64(reader *r, uint64_t *out);
bool rd_s64(reader *r, int64_t *out);
/* s33, the encoding of block types (5.4.1): returned sign-extended. */
bool rd_s33(reader *r, int64_t *out);

K23VM_INLINE bool rd_u32(reader *r, uint32_t *out)
{
    if (K23VM_LIKELY(r->p < r->end && *r->p < 0x80)) {
        *out = *r->p++;
        return true;
    }
    return rd_u32_slow(r, out);
}

K23VM_INLINE bool rd_s32(reader *r, int32_t *out)
{
    if (K23VM_LIKELY(r->p < r->end && *r->p < 0x80)) {
        uint8_t b = *r->p++;
        *out = (int32_t)((uint32_t)b << 25) >> 25; /* shift unsigned: 127 << 25 overflows int */
        return true;
    }
    return rd_s32_slow(r, out);
}

K23VM_INLINE bool rd_f32(reader *r, uint32_t *bits)
{
    const uint8_t *b = NULL; /* set on success; initialised for -Wmaybe-uninitialized */
    if (!rd_bytes(r, 4, &b)) return false;
    *bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

K23VM_INLINE bool rd_f64(reader *r, uint64_t *bits)
{
    const uint8_t *b = NULL; /* set on success; initialised for -Wmaybe-uninitialized */
    if (!rd_bytes(r, 8, &b)) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    *bits = v;
    return true;
}

/* A vector length (5.1.3): "length out of bounds" when n exceeds the bytes left counted from the
 * length's first byte (the reference interpreter's len32), and, when min_elem_size is not 0, an
 * end-of-input failure when n elements of at least min_elem_size bytes cannot follow. Either way
 * a hostile length is refused before anything is allocated for it. min_elem_size 0 gives exactly
 * the reference interpreter's behaviour (the elements then fail one by one); a caller that
 * allocates for n elements then bounds its allocation by rd_left() itself. */
bool rd_vec_len(reader *r, size_t min_elem_size, uint32_t *n);

/* A byte-string length (the `string`/`name` length, 5.2.4 and 5.5.14), checked like a vector
 * length with one-byte elements: the n bytes are then known to be there. */
bool rd_len(reader *r, uint32_t *n);

/* A name (5.2.4): length-prefixed UTF-8, validated ("malformed UTF-8 encoding"); *out points into
 * the module. */
bool rd_name(reader *r, const char **out, uint32_t *len);

/* Whether [s, s+n) is well-formed UTF-8 (Unicode 3.9, no surrogates, no overlongs). */
bool utf8_valid(const uint8_t *s, size_t n);

#endif
