/* store.h - the store's private structure (src/store/): what every file of the store shares and
 * the tiers do not need. The runtime structure the tiers read is src/runtime.h.
 *
 * Layout of the store's memory: the store struct and its private part are one block; small
 * objects made through the API (host functions, globals, memory and table structs, interned
 * function types) come from the store's arena; instances are one block each from the allocator
 * (alloc.c), holding the instance, its function, table, memory and global objects and segment
 * references; the bytes of memories and the elements of tables come from the allocator too.
 * k23vm_store_delete walks the lists below and frees everything at once.
 */
#ifndef K23VM_STORE_H
#define K23VM_STORE_H

#include "error.h"
#include "runtime.h"

/* ---- allocator (alloc.c; ARCHITECTURE.md 6) ------------------------------------------------------
 * One interface, two implementations: plain (a heap block or reservation per object) and pooling
 * (slots reserved once per engine, reused). Every function gets the store's platform through the
 * allocator itself; the pooling one is shared by the stores of an engine and locks its free lists.
 */

typedef struct store_allocator store_allocator;

typedef struct allocator_ops {
    /* A zeroed block of at least `bytes` for an instance; NULL when none. */
    void *(*instance_alloc)(store_allocator *a, size_t bytes, uint32_t *slot);
    void (*instance_free)(store_allocator *a, void *block, size_t bytes, uint32_t slot);
    /* Sets m->base, reserved, capacity, guard, alloc_slot for `bytes` accessible zero bytes,
     * growable in place up to max_bytes where the implementation reserves. */
    bool (*memory_alloc)(store_allocator *a, k23vm_memory *m, uint64_t bytes, uint64_t max_bytes);
    /* Makes [0, new_bytes) accessible, the new part zero; may move m->base (explicit mode, heap). */
    bool (*memory_grow)(store_allocator *a, k23vm_memory *m, uint64_t new_bytes);
    void (*memory_free)(store_allocator *a, k23vm_memory *m);
    /* Sets t->elems (n elements, all NULL), capacity, alloc_slot. */
    bool (*table_alloc)(store_allocator *a, k23vm_table *t, uint32_t n);
    /* Makes room for n elements (the new ones NULL); t->elems may move. */
    bool (*table_grow)(store_allocator *a, k23vm_table *t, uint32_t n);
    void (*table_free)(store_allocator *a, k23vm_table *t);
    void (*destroy)(store_allocator *a);
} allocator_ops;

struct store_allocator {
    const allocator_ops *ops;
    const k23vm_platform *plat;
    bool guard;                 /* the engine's bounds mode is K23VM_BOUNDS_GUARD */
    uint64_t max_memory_pages;  /* most pages a memory of this allocator can have */
    uint32_t max_table_elements;
    size_t max_instance_bytes;  /* most bytes of an instance block (SIZE_MAX: any) */
};

/* Bytes reserved for a guard-mode memory: every i32 address plus every u32 offset plus the widest
 * access (16 bytes) lands inside (5.4.6 memarg; 4.4.7 address computation), so no access needs a
 * software check. */
#define GUARD_RESERVATION ((uint64_t)8 << 30)
#define GUARD_TAIL ((uint64_t)64 << 10)
#define WASM_PAGE ((uint64_t)65536)
#define WASM_MAX_PAGES ((uint64_t)65536)

/* The plain allocator, set up in place (one per store when the engine has no pooling allocator). */
void alloc_plain_init(store_allocator *a, const k23vm_platform *plat, bool guard);

/* ---- the store's private part -------------------------------------------------------------------- */

typedef VEC(k23vm_memory *) memory_vec;
typedef VEC(k23vm_table *) table_vec;
typedef VEC(k23vm_func *) func_vec;
typedef VEC(const functype *) type_vec;

struct store_private {
    arena arena;
    store_allocator *alloc;  /* the engine's, or &plain */
    store_allocator plain;
    /* Every memory and table of the store, for teardown and (memories) the fault handler. */
    memory_vec memories;
    table_vec tables;
    func_vec host_funcs; /* with finalizers to call */
    k23vm_instance *instances;
    /* Function type interning: types.data[id] is the type with that id (a copy in the arena);
     * type_index is an open-addressed hash table of id + 1 (0 = empty), type_cap a power of 2. */
    type_vec types;
    uint32_t *type_index;
    uint32_t type_cap;
    /* Limits. */
    uint64_t max_memory_pages; /* effective cap, never 0 */
    uint32_t max_table_elements;
    size_t stack_slots;
    void *data;
    void (*data_finalizer)(void *);
};

/* The store allocation: struct k23vm_store, then its private part. */
typedef struct store_block {
    struct k23vm_store store;
    struct store_private priv;
} store_block;

struct k23vm_caller {
    k23vm_store *store;
    k23vm_instance *inst;
};

K23VM_INLINE const k23vm_platform *store_plat(const k23vm_store *s) { return s->plat; }

/* Errors of the store's own, with the store's platform. */
#define store_err(s, kind, ...) err_new((s)->plat, (kind), K23VM_NO_OFFSET, __VA_ARGS__)

/* store.c */
/* The store-wide id of a function type (interning it); false when out of memory. */
bool store_intern_type(k23vm_store *s, const functype *ft, uint32_t *id);
/* The VM stack, allocated on first use. */
bool store_ensure_stack(k23vm_store *s);

/* memory.c, table.c, global.c: objects in storage the caller provides (zeroed), registered with
 * the store by the caller (the store's lists must have room: see store_reserve_objects). */
k23vm_error *memory_init_in(k23vm_store *s, k23vm_memory *m, const memtype *mt);
k23vm_error *table_init_in(k23vm_store *s, k23vm_table *t, const tabletype *tt, void *init);
void memory_release(k23vm_store *s, k23vm_memory *m);
void table_release(k23vm_store *s, k23vm_table *t);
/* Makes room in the store's memory and table lists for this many more, so that registering them
 * later cannot fail. */
bool store_reserve_objects(k23vm_store *s, size_t memories, size_t tables);

/* Conversion between API values and slots (func.c). */
void val_to_slots(const k23vm_val *v, slot *out);
void val_from_slots(valtype t, const slot *in, k23vm_val *out);
/* Whether a value may be stored where type t is expected in store s (kind, and a funcref of this
 * store). */
bool val_fits(const k23vm_store *s, const k23vm_val *v, valtype t);

/* func.c: the tier exec_call enters wasm functions through: interp_call. A variable so that the
 * store's tests can put in a fake tier (one that faults on purpose, tests/test_limits.c). */
extern k23vm_trap *(*exec_tier)(k23vm_store *s, k23vm_func *f, slot *args_results);

/* instance.c */
void instance_extern(const k23vm_instance *inst, uint8_t kind, uint32_t index, k23vm_extern *out);
/* Import matching (4.5.2, 2.0: "import matching" with limits subtyping, 4.5.1): NULL or the
 * reason it does not match. */
const char *extern_match(const k23vm_store *s, const k23vm_module *m, const import *im, const k23vm_extern *ext);

#endif
