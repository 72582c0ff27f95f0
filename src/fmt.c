/* fmt.c - a small printf for error messages (see fmt.h). */
#include "fmt.h"

#include <stdint.h>

typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, char c)
{
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
}

static void put_uint(out *o, unsigned long long v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n) put(o, tmp[--n]);
}

size_t fmt_v(char *buf, size_t cap, const char *f, va_list ap)
{
    out o = {buf, cap, 0};
    for (; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        int prec = -1;
        if (f[0] == '.' && f[1] == '*') {
            prec = va_arg(ap, int);
            f += 2;
        }
        int lng = 0; /* 1: long, 2: long long, 3: size_t */
        if (*f == 'z') lng = 3, f++;
        else if (f[0] == 'l' && f[1] == 'l') lng = 2, f += 2;
        else if (*f == 'l') lng = 1, f++;
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            for (int i = 0; s[i] && (prec < 0 || i < prec); i++) put(&o, s[i]);
            break;
        }
        case 'c': put(&o, (char)va_arg(ap, int)); break;
        case 'd': {
            long long v = lng == 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long)
                        : lng == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
            unsigned long long u = (unsigned long long)v;
            if (v < 0) put(&o, '-'), u = 0 - u;
            put_uint(&o, u, 10);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng == 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long)
                                 : lng == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
            put_uint(&o, v, *f == 'x' ? 16 : 10);
            break;
        }
        case '%': put(&o, '%'); break;
        case '\0': f--; break;
        default: put(&o, '%'), put(&o, *f); break;
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

size_t fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    size_t n = fmt_v(buf, cap, f, ap);
    va_end(ap);
    return n;
}
