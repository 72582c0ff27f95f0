/* alloc.c - the allocator of instances, linear memories and tables (ARCHITECTURE.md 6), behind
 * one interface (store.h: allocator_ops) with two implementations:
 *
 *  plain    every object allocated when made and freed with its store. Instances and tables are
 *           heap blocks. A memory in guard mode is an 8 GiB + guard reservation whose accessible
 *           prefix grows by committing pages; in explicit mode it is a reservation of its maximum
 *           when the platform has virtual memory (base never moves), else a heap block that
 *           grow reallocates (base moves, runtime.h says the tiers reload it).
 *  pooling  per engine, three regions reserved once (instance, memory and table slots, each
 *           slot followed by inaccessible space: memory slots by their guard), a free list of
 *           slots each, under a spin lock since the stores of an engine may run on several
 *           threads. Slots are handed out zeroed: a memory slot keeps its first keep_resident
 *           bytes committed and clears them, and decommits the rest (the platform's decommit
 *           drops the pages); the used part of an instance or table slot is cleared when freed
 *           and stays committed for the next user. Re-instantiating a module whose memory fits
 *           the resident part then costs no system call at all.
 */
#include "engine.h"
#include "store.h"

static uint64_t round_up(uint64_t n, uint64_t unit) { return (n + unit - 1) / unit * unit; }

static bool has_vm(const k23vm_platform *p) { return engine_platform_has_vm(p); }

/* The empty memory of the heap path: a non-NULL base for zero bytes, never written. */
static uint8_t empty_memory[16] __attribute__((aligned(16)));

/* ---- plain --------------------------------------------------------------------------------------- */

static void *plain_instance_alloc(store_allocator *a, size_t bytes, uint32_t *slot_out)
{
    *slot_out = 0;
    return mem_zalloc(a->plat, bytes);
}

static void plain_instance_free(store_allocator *a, void *block, size_t bytes, uint32_t slot_no)
{
    (void)slot_no;
    mem_free(a->plat, block, bytes);
}

static bool plain_memory_alloc(store_allocator *a, k23vm_memory *m, uint64_t bytes, uint64_t max_bytes)
{
    const k23vm_platform *p = a->plat;
    m->guard = a->guard;
    if (a->guard || has_vm(p)) {
        uint64_t res = a->guard ? GUARD_RESERVATION + GUARD_TAIL : max_bytes;
        res = round_up(res ? res : 1, p->page_size);
        if (res > SIZE_MAX) return false;
        uint8_t *base = p->reserve(p->ctx, (size_t)res);
        if (!base) return false;
        uint64_t commit = round_up(bytes, p->page_size);
        if (commit && !p->commit(p->ctx, base, (size_t)commit, K23VM_PROT_READ | K23VM_PROT_WRITE)) {
            p->release(p->ctx, base, (size_t)res);
            return false;
        }
        m->base = base;
        m->reserved = res;
        m->capacity = commit;
        return true;
    }
    if (bytes > SIZE_MAX) return false;
    uint8_t *base = bytes ? mem_zalloc(p, (size_t)bytes) : empty_memory;
    if (!base) return false;
    m->base = base;
    m->reserved = 0;
    m->capacity = bytes;
    return true;
}

/* Commits [capacity, new_bytes) of a reserved memory. */
static bool reserved_grow(const k23vm_platform *p, k23vm_memory *m, uint64_t new_bytes)
{
    if (new_bytes <= m->capacity) return true;
    uint64_t want = round_up(new_bytes, p->page_size);
    if (want > m->reserved) return false;
    if (!p->commit(p->ctx, m->base + m->capacity, (size_t)(want - m->capacity), K23VM_PROT_READ | K23VM_PROT_WRITE))
        return false;
    m->capacity = want;
    return true;
}

static bool plain_memory_grow(store_allocator *a, k23vm_memory *m, uint64_t new_bytes)
{
    const k23vm_platform *p = a->plat;
    if (m->reserved) return reserved_grow(p, m, new_bytes);
    if (new_bytes <= m->capacity) return true;
    if (new_bytes > SIZE_MAX) return false;
    uint8_t *nb = m->base == empty_memory ? mem_alloc(p, (size_t)new_bytes)
                                          : mem_realloc(p, m->base, (size_t)m->capacity, (size_t)new_bytes);
    if (!nb) return false;
    memset(nb + m->capacity, 0, (size_t)(new_bytes - m->capacity));
    m->base = nb;
    m->capacity = new_bytes;
    return true;
}

static void plain_memory_free(store_allocator *a, k23vm_memory *m)
{
    const k23vm_platform *p = a->plat;
    if (m->reserved) p->release(p->ctx, m->base, (size_t)m->reserved);
    else if (m->base != empty_memory) mem_free(p, m->base, (size_t)m->capacity);
    m->base = NULL;
}

static bool plain_table_alloc(store_allocator *a, k23vm_table *t, uint32_t n)
{
    size_t bytes;
    if (!size_mul(n, sizeof(void *), &bytes)) return false;
    t->elems = mem_zalloc(a->plat, bytes);
    if (!t->elems) return false;
    t->capacity = n;
    return true;
}

static bool plain_table_grow(store_allocator *a, k23vm_table *t, uint32_t n)
{
    if (n <= t->capacity) return true;
    /* Amortised: table.grow by one at a time stays linear. */
    uint64_t cap = (uint64_t)t->capacity * 2;
    if (cap < n) cap = n;
    if (cap > t->max) cap = t->max;
    if (cap < n) cap = n;
    size_t bytes;
    if (!size_mul((size_t)cap, sizeof(void *), &bytes)) return false;
    void **e = mem_realloc(a->plat, t->elems, (size_t)t->capacity * sizeof(void *), bytes);
    if (!e) return false;
    memset(e + t->capacity, 0, (size_t)(cap - t->capacity) * sizeof(void *));
    t->elems = e;
    t->capacity = (uint32_t)cap;
    return true;
}

static void plain_table_free(store_allocator *a, k23vm_table *t)
{
    mem_free(a->plat, t->elems, (size_t)t->capacity * sizeof(void *));
    t->elems = NULL;
}

static const allocator_ops plain_ops = {
    .instance_alloc = plain_instance_alloc,
    .instance_free = plain_instance_free,
    .memory_alloc = plain_memory_alloc,
    .memory_grow = plain_memory_grow,
    .memory_free = plain_memory_free,
    .table_alloc = plain_table_alloc,
    .table_grow = plain_table_grow,
    .table_free = plain_table_free,
    .destroy = NULL,
};

void alloc_plain_init(store_allocator *a, const k23vm_platform *plat, bool guard)
{
    a->ops = &plain_ops;
    a->plat = plat;
    a->guard = guard;
    a->max_memory_pages = WASM_MAX_PAGES;
    a->max_table_elements = UINT32_MAX;
    a->max_instance_bytes = SIZE_MAX;
}

/* ---- pooling ------------------------------------------------------------------------------------- */

/* One kind of slot: count slots of slot_size bytes from region, the free ones on a stack. */
typedef struct pool_slots {
    uint8_t *region;
    size_t region_size;
    size_t slot_size;
    size_t usable;       /* bytes of a slot that may be committed; the rest stays inaccessible */
    uint32_t count;
    uint32_t nfree;
    uint32_t *free;      /* slot numbers; the top is free[nfree - 1] */
    size_t *committed;   /* per slot: bytes from its start committed */
} pool_slots;

typedef struct pool {
    store_allocator base; /* first: the engine's store_allocator* is the pool */
    int lock;
    uint64_t keep_resident; /* bytes of a memory slot kept committed between users */
    pool_slots inst, mem, tab;
} pool;

static void pool_lock(pool *p)
{
    while (__atomic_exchange_n(&p->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&p->lock, __ATOMIC_RELAXED)) {
        }
}

static void pool_unlock(pool *p) { __atomic_store_n(&p->lock, 0, __ATOMIC_RELEASE); }

static bool slot_take(pool *p, pool_slots *k, uint32_t *out)
{
    pool_lock(p);
    bool ok = k->nfree > 0;
    if (ok) *out = k->free[--k->nfree];
    pool_unlock(p);
    return ok;
}

static void slot_put(pool *p, pool_slots *k, uint32_t n)
{
    pool_lock(p);
    k->free[k->nfree++] = n;
    pool_unlock(p);
}

static uint8_t *slot_base(const pool_slots *k, uint32_t n) { return k->region + (size_t)n * k->slot_size; }

/* Commits the first `bytes` of slot n (instances and tables keep what they once committed). */
static bool slot_commit(const k23vm_platform *plat, pool_slots *k, uint32_t n, size_t bytes)
{
    size_t want = (size_t)round_up(bytes, plat->page_size);
    if (want <= k->committed[n]) return true;
    if (want > k->usable) return false;
    if (!plat->commit(plat->ctx, slot_base(k, n) + k->committed[n], want - k->committed[n],
                      K23VM_PROT_READ | K23VM_PROT_WRITE))
        return false;
    k->committed[n] = want;
    return true;
}

static void *pool_instance_alloc(store_allocator *a, size_t bytes, uint32_t *slot_out)
{
    pool *p = (pool *)a;
    uint32_t n;
    if (bytes > p->inst.usable || !slot_take(p, &p->inst, &n)) return NULL;
    if (!slot_commit(a->plat, &p->inst, n, bytes)) {
        slot_put(p, &p->inst, n);
        return NULL;
    }
    *slot_out = n;
    return slot_base(&p->inst, n); /* zero: fresh, or cleared by pool_instance_free */
}

static void pool_instance_free(store_allocator *a, void *block, size_t bytes, uint32_t n)
{
    pool *p = (pool *)a;
    memset(block, 0, bytes);
    slot_put(p, &p->inst, n);
}

/* Memory slots: committed[n] is how much of the slot is accessible (and zero) while it is free:
 * the first keep_resident bytes of the last user stay committed and are cleared in place, the rest
 * is decommitted. Re-instantiating a module whose memory fits that prefix costs no system call
 * and no page fault. In guard mode the slot must be inaccessible past the new memory's size, so
 * a smaller memory takes one protect of the difference. */
static bool pool_memory_alloc(store_allocator *a, k23vm_memory *m, uint64_t bytes, uint64_t max_bytes)
{
    (void)max_bytes; /* the slot is as large as the largest memory the pool allows */
    pool *p = (pool *)a;
    const k23vm_platform *plat = a->plat;
    uint32_t n;
    if (!slot_take(p, &p->mem, &n)) return false;
    uint8_t *base = slot_base(&p->mem, n);
    uint64_t want = round_up(bytes, plat->page_size), have = p->mem.committed[n];
    bool done = true;
    if (want > have) {
        done = plat->commit(plat->ctx, base + have, (size_t)(want - have), K23VM_PROT_READ | K23VM_PROT_WRITE);
        if (done) p->mem.committed[n] = want;
    } else if (want < have && a->guard) {
        done = plat->protect(plat->ctx, base + want, (size_t)(have - want), K23VM_PROT_NONE);
        if (done) p->mem.committed[n] = want;
    }
    if (!done) {
        slot_put(p, &p->mem, n);
        return false;
    }
    m->base = base;
    m->reserved = p->mem.slot_size;
    m->capacity = p->mem.committed[n];
    m->guard = a->guard;
    m->alloc_slot = n;
    return true;
}

static bool pool_memory_grow(store_allocator *a, k23vm_memory *m, uint64_t new_bytes)
{
    if (new_bytes > a->max_memory_pages * WASM_PAGE) return false;
    return reserved_grow(a->plat, m, new_bytes);
}

static void pool_memory_free(store_allocator *a, k23vm_memory *m)
{
    pool *p = (pool *)a;
    const k23vm_platform *plat = a->plat;
    uint32_t n = m->alloc_slot;
    /* (Pages that a smaller guard-mode memory made inaccessible in pool_memory_alloc were clear
     * already and stay so.) */
    uint64_t keep = m->capacity < p->keep_resident ? m->capacity : p->keep_resident;
    /* Dropping the pages zeroes them for the next user and gives the memory back. If the platform
     * cannot, the slot is not reused (lost to the pool, never shown to a guest). */
    if (m->capacity > keep && !plat->decommit(plat->ctx, m->base + keep, (size_t)(m->capacity - keep))) return;
    if (keep) memset(m->base, 0, (size_t)keep);
    p->mem.committed[n] = keep;
    slot_put(p, &p->mem, n);
    m->base = NULL;
}

static bool pool_table_alloc(store_allocator *a, k23vm_table *t, uint32_t n)
{
    pool *p = (pool *)a;
    uint32_t s;
    if (n > a->max_table_elements || !slot_take(p, &p->tab, &s)) return false;
    if (!slot_commit(a->plat, &p->tab, s, (size_t)n * sizeof(void *))) {
        slot_put(p, &p->tab, s);
        return false;
    }
    t->elems = (void **)slot_base(&p->tab, s);
    t->capacity = n;
    t->alloc_slot = s;
    return true;
}

static bool pool_table_grow(store_allocator *a, k23vm_table *t, uint32_t n)
{
    pool *p = (pool *)a;
    if (n <= t->capacity) return true;
    if (n > a->max_table_elements || !slot_commit(a->plat, &p->tab, t->alloc_slot, (size_t)n * sizeof(void *)))
        return false;
    t->capacity = n; /* the slot's elements up to n are zero: the invariant of a free slot */
    return true;
}

static void pool_table_free(store_allocator *a, k23vm_table *t)
{
    pool *p = (pool *)a;
    memset(t->elems, 0, (size_t)t->capacity * sizeof(void *));
    slot_put(p, &p->tab, t->alloc_slot);
    t->elems = NULL;
}

static void slots_free(const k23vm_platform *plat, pool_slots *k)
{
    if (k->region) plat->release(plat->ctx, k->region, k->region_size);
    mem_free(plat, k->free, (size_t)k->count * sizeof *k->free);
    mem_free(plat, k->committed, (size_t)k->count * sizeof *k->committed);
}

static void pool_destroy(store_allocator *a)
{
    pool *p = (pool *)a;
    const k23vm_platform *plat = a->plat;
    slots_free(plat, &p->inst);
    slots_free(plat, &p->mem);
    slots_free(plat, &p->tab);
    mem_free(plat, p, sizeof *p);
}

static const allocator_ops pool_ops = {
    .instance_alloc = pool_instance_alloc,
    .instance_free = pool_instance_free,
    .memory_alloc = pool_memory_alloc,
    .memory_grow = pool_memory_grow,
    .memory_free = pool_memory_free,
    .table_alloc = pool_table_alloc,
    .table_grow = pool_table_grow,
    .table_free = pool_table_free,
    .destroy = pool_destroy,
};

/* Reserves count slots of slot_size (a multiple of the page size) and fills the free stack so that
 * slot 0 is taken first. */
static k23vm_error *slots_init(const k23vm_platform *plat, pool_slots *k, const char *what, uint32_t count,
                               uint64_t slot_size, uint64_t usable)
{
    uint64_t total;
    if (__builtin_mul_overflow(slot_size, (uint64_t)count, &total) || total > SIZE_MAX)
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "pool: %u %s slots do not fit the address space",
                       count, what);
    k->count = count;
    k->slot_size = (size_t)slot_size;
    k->usable = (size_t)usable;
    k->free = mem_alloc(plat, (size_t)count * sizeof *k->free);
    k->committed = mem_zalloc(plat, (size_t)count * sizeof *k->committed);
    if (!k->free || !k->committed) return err_oom();
    k->region = plat->reserve(plat->ctx, (size_t)total);
    if (!k->region)
        return err_new(plat, K23VM_ERROR_RESOURCE, K23VM_NO_OFFSET, "pool: cannot reserve %llu bytes for %u %s slots",
                       (unsigned long long)total, count, what);
    k->region_size = (size_t)total;
    for (uint32_t i = 0; i < count; i++) k->free[i] = count - 1 - i;
    k->nfree = count;
    return NULL;
}

k23vm_error *store_engine_init(k23vm_engine *e, const k23vm_engine_config *cfg)
{
    e->alloc = NULL;
    const k23vm_platform *plat = &e->plat;
    if (!cfg || cfg->allocator == K23VM_ALLOCATOR_PLAIN) return NULL;
    if (cfg->allocator != K23VM_ALLOCATOR_POOLING)
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "unknown allocator kind %d", (int)cfg->allocator);
    if (!has_vm(plat) || !plat->decommit || sizeof(void *) < 8)
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET,
                       "the pooling allocator needs a 64-bit platform with reserve/commit/decommit/release");
    const k23vm_pool_config *pc = &cfg->pool;
    uint32_t ninst = pc->instances ? pc->instances : 100;
    uint32_t nmem = pc->memories ? pc->memories : 100;
    uint32_t ntab = pc->tables ? pc->tables : 100;
    uint64_t inst_bytes = pc->instance_bytes ? pc->instance_bytes : (1u << 20);
    uint64_t pages = pc->memory_pages && pc->memory_pages < WASM_MAX_PAGES ? pc->memory_pages : WASM_MAX_PAGES;
    uint32_t elems = pc->table_elements ? pc->table_elements : 65536;
    bool guard = e->bounds == K23VM_BOUNDS_GUARD;
    uint64_t ps = plat->page_size;
    /* Guard mode: each memory slot is the full guard reservation whatever its page limit. Explicit
     * mode: the page limit, plus one inaccessible page so that neighbouring slots never touch. */
    uint64_t mem_slot = guard ? round_up(GUARD_RESERVATION + GUARD_TAIL, ps) : round_up(pages * WASM_PAGE, ps) + ps;
    /* Instance and table slots are followed by an inaccessible page as well. */
    uint64_t inst_slot = round_up(inst_bytes, ps) + ps;
    uint64_t tab_slot = round_up((uint64_t)elems * sizeof(void *), ps) + ps;

    pool *p = mem_zalloc(plat, sizeof *p);
    if (!p) return err_oom();
    p->base.ops = &pool_ops;
    p->base.plat = plat;
    p->base.guard = guard;
    p->base.max_memory_pages = pages;
    p->base.max_table_elements = elems;
    p->base.max_instance_bytes = (size_t)(inst_slot - ps);
    p->keep_resident = round_up(pc->keep_resident == (size_t)-1 ? 0 : pc->keep_resident ? pc->keep_resident : WASM_PAGE, ps);
    k23vm_error *err = slots_init(plat, &p->inst, "instance", ninst, inst_slot, inst_slot - ps);
    if (!err) err = slots_init(plat, &p->mem, "memory", nmem, mem_slot, pages * WASM_PAGE);
    if (!err) err = slots_init(plat, &p->tab, "table", ntab, tab_slot, tab_slot - ps);
    if (err) {
        pool_destroy(&p->base);
        return err;
    }
    e->alloc = &p->base;
    return NULL;
}

void store_engine_fini(k23vm_engine *e)
{
    if (e && e->alloc) {
        e->alloc->ops->destroy(e->alloc);
        e->alloc = NULL;
    }
}
