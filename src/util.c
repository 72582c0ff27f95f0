/* util.c - arenas and growable arrays over the platform allocator (see util.h). */
#include "util.h"

struct arena_chunk {
    _Alignas(16) arena_chunk *next; /* sizes the header to a multiple of 16 */
    size_t size;
};

/* The payload follows the header; platform blocks are 16-byte aligned, so it is too. */
_Static_assert(sizeof(arena_chunk) % 16 == 0, "arena chunk header keeps the payload 16-byte aligned");

enum { ARENA_CHUNK = 64 * 1024 };

void arena_init(arena *a, const k23vm_platform *plat)
{
    a->plat = plat;
    a->head = NULL;
    a->cur = a->end = NULL;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) return NULL; /* before rounding up, which would wrap */
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if ((size_t)(a->end - a->cur) >= n) {
        void *r = a->cur;
        a->cur += n;
        return r;
    }
    size_t body = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
    size_t total = sizeof(arena_chunk) + body;
    arena_chunk *c = mem_alloc(a->plat, total);
    if (!c) return NULL;
    c->size = total;
    c->next = a->head;
    a->head = c;
    uint8_t *base = (uint8_t *)(c + 1);
    if (body == n && a->end != NULL) {
        /* A large block gets its own chunk; keep bumping in the current one. */
        return base;
    }
    a->cur = base + n;
    a->end = base + body;
    return base;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

void arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        mem_free(a->plat, c, c->size);
        c = next;
    }
    a->head = NULL;
    a->cur = a->end = NULL;
}

bool vec_grow_(const k23vm_platform *p, void **data, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return false;
        ncap *= 2;
    }
    size_t bytes, old = *cap * elem;
    if (!size_mul(ncap, elem, &bytes)) return false;
    void *nd = *data ? mem_realloc(p, *data, old, bytes) : mem_alloc(p, bytes);
    if (!nd) return false;
    *data = nd;
    *cap = ncap;
    return true;
}
