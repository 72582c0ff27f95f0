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

bool rd_fail_end(reader *r)
{
    return rd_fail_at(r, r->p, r->end >= r->mod_end ? "unexpected end" : "unexpected end of section or function");
}

/* Reads up to max_bytes of LEB128 into *v. The last allowed byte's unused bits are checked by the
 * caller through last_mask: those bits must be all zero (unsigned) or equal the sign (signed). */
K23VM_INLINE bool leb(reader *r, unsigned max_bytes, uint64_t *v, unsigned *shift, uint8_t *last)
{
    const uint8_t *start = r->p;
    uint64_t acc = 0;
    unsigned s = 0;
    for (unsigned i = 0;; i++) {
        if (r->p >= r->end) return rd_fail_end(r);
        uint8_t b = *r->p++;
        if (i == max_bytes - 1 && (b & 0x80)) return rd_fail_at(r, start, "integer representation too long");
        acc |= (uint64_t)(b & 0x7F) << s;
        s += 7;
        if (!(b & 0x80)) {
            *v = acc;
            *shift = s;
            *last = (i == max_bytes - 1) ? b : 0xFF;
            return true;
        }
    }
}

bool rd_u32_slow(reader *r, uint32_t *out)
{
    const uint8_t *start = r->p;
    uint64_t v;
    unsigned s;
    uint8_t last;
    if (!leb(r, 5, &v, &s, &last)) return false;
    if (last != 0xFF && (last & 0x70)) return rd_fail_at(r, start, "integer too large");
    *out = (uint32_t)v;
    return true;
}

bool rd_s32_slow(reader *r, int32_t *out)
{
    const uint8_t *start = r->p;
    uint64_t v;
    unsigned s;
    uint8_t last;
    if (!leb(r, 5, &v, &s, &last)) return false;
    if (last != 0xFF && (last & 0x78) != 0 && (last & 0x78) != 0x78)
        return rd_fail_at(r, start, "integer too large");
    if (s < 64 && (v >> (s - 1)) & 1) v |= ~(uint64_t)0 << s;
    *out = (int32_t)(uint32_t)v;
    return true;
}

bool rd_s33(reader *r, int64_t *out)
{
    const uint8_t *start = r->p;
    uint64_t v;
    unsigned s;
    uint8_t last;
    if (!leb(r, 5, &v, &s, &last)) return false;
    if (last != 0xFF && (last & 0x70) != 0 && (last & 0x70) != 0x70)
        return rd_fail_at(r, start, "integer too large");
    if (s < 64 && (v >> (s - 1)) & 1) v |= ~(uint64_t)0 << s;
    /* 5 bytes hold 35 bits: keep the low 33 and sign-extend from bit 32. */
    int64_t x = (int64_t)(v << 31) >> 31;
    *out = x;
    return true;
}

bool rd_u64(reader *r, uint64_t *out)
{
    const uint8_t *start = r->p;
    uint64_t v;
    unsigned s;
    uint8_t last;
    if (!leb(r, 10, &v, &s, &last)) return false;
    if (last != 0xFF && (last & 0x7E)) return rd_fail_at(r, start, "integer too large");
    *out = v;
    return true;
}

bool rd_s64(reader *r, int64_t *out)
{
    const uint8_t *start = r->p;
    uint64_t v;
    unsigned s;
    uint8_t last;
    if (!leb(r, 10, &v, &s, &last)) return false;
    if (last != 0xFF && (last & 0x7F) != 0 && (last & 0x7F) != 0x7F)
        return rd_fail_at(r, start, "integer too large");
    if (s < 64 && (v >> (s - 1)) & 1) v |= ~(uint64_t)0 << s;
    *out = (int64_t)v;
    return true;
}

bool rd_vec_len(reader *r, size_t min_elem_size, uint32_t *n)
{
    const uint8_t *start = r->p;
    if (!rd_u32(r, n)) return false;
    if (min_elem_size && (uint64_t)*n * min_elem_size > rd_left(r))
        return rd_fail_at(r, start, r->end >= r->mod_end ? "unexpected end" : "length out of bounds");
    return true;
}

bool rd_name(reader *r, const char **out, uint32_t *len)
{
    const uint8_t *start = r->p;
    if (!rd_u32(r, len)) return false;
    if (*len > rd_left(r)) {
        return rd_fail_at(r, start, r->end >= r->mod_end ? "unexpected end" : "length out of bounds");
    }
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
