/* reader.c - the cold and multi-byte paths of reader.h. */
#include "reader.h"

bool rd_fail_at(reader *r, const uint8_t *at, const char *msg)
{
    if (!r->err) {
        r->err = msg;
        r->err_off = rd_offset(r, at);
    }
    return false;
}

bool rd_fail_end(reader *r) { return rd_fail_at(r, r->p, "unexpected end of section or function"); }

/* LEB128 (5.2.2) of at most max_bytes bytes, as the reference interpreter reads it: at the last
 * allowed byte the bits beyond the type's width are checked first ("integer too large": for
 * unsigned they must be zero, for signed they must all equal the sign bit; last_mask selects
 * them), and only then its continuation bit ("integer representation too long"), so that
 * "\ff\ff\ff\ff\7f" is too large for a u32 while "\80\80\80\80\80\00" is too long. Returns the
 * raw accumulated bits; *shift is the number of bits read. */
K23VM_INLINE bool leb(reader *r, unsigned max_bytes, uint8_t last_mask, bool is_signed, uint64_t *v,
                      unsigned *shift)
{
    const uint8_t *start = r->p;
    uint64_t acc = 0;
    unsigned s = 0;
    for (unsigned i = 0;; i++) {
        if (K23VM_UNLIKELY(r->p >= r->end)) return rd_fail_end(r);
        uint8_t b = *r->p++;
        if (i == max_bytes - 1) {
            uint8_t high = b & last_mask;
            if (high != 0 && !(is_signed && high == last_mask))
                return rd_fail_at(r, start, "integer too large");
            if (b & 0x80) return rd_fail_at(r, start, "integer representation too long");
        }
        acc |= (uint64_t)(b & 0x7F) << s;
        s += 7;
        if (!(b & 0x80)) {
            *v = acc;
            *shift = s;
            return true;
        }
    }
}

/* Sign-extends the s bits read into v from bit s-1 (the last byte's 0x40). */
K23VM_INLINE uint64_t sext(uint64_t v, unsigned s)
{
    if (s < 64 && (v >> (s - 1)) & 1) v |= ~(uint64_t)0 << s;
    return v;
}

/* Widths: u32/s32/s33 take at most 5 bytes (35 bits), u64/s64 at most 10 (70 bits); the masks
 * pick the last byte's bits beyond the width (for signed: beyond the width minus the sign). */
bool rd_u32_slow(reader *r, uint32_t *out)
{
    uint64_t v = 0;
    unsigned s = 0;
    if (!leb(r, 5, 0x70, false, &v, &s)) return false;
    *out = (uint32_t)v;
    return true;
}

bool rd_s32_slow(reader *r, int32_t *out)
{
    uint64_t v = 0;
    unsigned s = 0;
    if (!leb(r, 5, 0x78, true, &v, &s)) return false;
    *out = (int32_t)(uint32_t)sext(v, s);
    return true;
}

bool rd_s33(reader *r, int64_t *out)
{
    uint64_t v = 0;
    unsigned s = 0;
    if (!leb(r, 5, 0x70, true, &v, &s)) return false;
    /* 5 bytes hold 35 bits: keep the low 33 and sign-extend from bit 32. */
    *out = (int64_t)(sext(v, s) << 31) >> 31;
    return true;
}

bool rd_u64(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    unsigned s = 0;
    if (!leb(r, 10, 0x7E, false, &v, &s)) return false;
    *out = v;
    return true;
}

bool rd_s64(reader *r, int64_t *out)
{
    uint64_t v = 0;
    unsigned s = 0;
    if (!leb(r, 10, 0x7F, true, &v, &s)) return false;
    *out = (int64_t)sext(v, s);
    return true;
}

bool rd_vec_len(reader *r, size_t min_elem_size, uint32_t *n)
{
    const uint8_t *start = r->p;
    if (!rd_u32(r, n)) return false;
    /* len32: measured from the length's first byte, as the reference interpreter does. */
    if (*n > (size_t)(r->end - start)) return rd_fail_at(r, start, "length out of bounds");
    if (min_elem_size && (uint64_t)*n * min_elem_size > rd_left(r)) return rd_fail_end(r);
    return true;
}

bool rd_len(reader *r, uint32_t *n) { return rd_vec_len(r, 1, n); }

bool rd_name(reader *r, const char **out, uint32_t *len)
{
    if (!rd_len(r, len)) return false;
    if (!utf8_valid(r->p, *len)) return rd_fail_at(r, r->p, "malformed UTF-8 encoding");
    *out = (const char *)r->p;
    r->p += *len;
    return true;
}

bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) need = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) need = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) need = 3, cp = c & 0x07;
        else return false;
        if (n - i - 1 < need) return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t d = s[i + k];
            if ((d & 0xC0) != 0x80) return false;
            cp = cp << 6 | (d & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}
