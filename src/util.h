/* util.h - allocation through the platform hooks, growable arrays and arenas.
 * All memory of the core is obtained here, so that a kernel's allocator (or a test's failure
 * injector) sees every byte. */
#ifndef K23VM_UTIL_H
#define K23VM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "k23vm/platform.h"

K23VM_INLINE void *mem_alloc(const k23vm_platform *p, size_t n) { return p->alloc(p->ctx, n ? n : 1); }
K23VM_INLINE void *mem_zalloc(const k23vm_platform *p, size_t n)
{
    void *q = p->alloc(p->ctx, n ? n : 1);
    if (q) memset(q, 0, n);
    return q;
}
K23VM_INLINE void *mem_realloc(const k23vm_platform *p, void *q, size_t old, size_t n)
{
    return p->realloc(p->ctx, q, old ? old : 1, n ? n : 1);
}
K23VM_INLINE void mem_free(const k23vm_platform *p, void *q, size_t n)
{
    if (q) p->free(p->ctx, q, n ? n : 1);
}

/* a*b, or false when it overflows size_t. */
K23VM_INLINE bool size_mul(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }

/* ---- arena: bump allocation in chunks, freed all at once -------------------------------------- */

typedef struct arena_chunk arena_chunk;
typedef struct arena {
    const k23vm_platform *plat;
    arena_chunk *head;
    uint8_t *cur, *end;
} arena;

void arena_init(arena *a, const k23vm_platform *plat);
/* 16-byte aligned, or NULL when out of memory or n is absurd. */
void *arena_alloc(arena *a, size_t n);
void *arena_zalloc(arena *a, size_t n);
/* Frees every chunk; the arena can be used again. */
void arena_free(arena *a);

/* ---- vec: a typed growable array on the platform allocator -------------------------------------
 *   VEC(uint32_t) v = {0};
 *   if (!VEC_PUSH(plat, &v, x)) ...out of memory...
 *   VEC_FREE(plat, &v);
 */
#define VEC(T) struct { T *data; size_t len, cap; }
bool vec_grow_(const k23vm_platform *p, void **data, size_t *cap, size_t need, size_t elem);
#define VEC_RESERVE(p, v, n) \
    ((v)->len + (n) <= (v)->cap || vec_grow_((p), (void **)&(v)->data, &(v)->cap, (v)->len + (n), sizeof *(v)->data))
#define VEC_PUSH(p, v, x) (VEC_RESERVE(p, v, 1) ? ((v)->data[(v)->len++] = (x), true) : false)
#define VEC_FREE(p, v) (mem_free((p), (v)->data, (v)->cap * sizeof *(v)->data), (v)->data = NULL, (v)->len = (v)->cap = 0)

#endif
