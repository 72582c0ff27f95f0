/* engine.h - struct k23vm_engine (include/k23vm.h): the configuration and platform hooks shared by
 * every module and store made from one engine. Nothing in it changes after k23vm_engine_new, so
 * an engine may be used from several threads at once; later parts (code registry, epoch counter)
 * add their own fields with their own synchronisation. */
#ifndef K23VM_ENGINE_H
#define K23VM_ENGINE_H

#include "k23vm.h"

struct k23vm_engine {
    /* The embedder's hooks, copied: modules and stores allocate through &plat, so the caller's
     * struct need not outlive k23vm_engine_new. */
    k23vm_platform plat;
    k23vm_exec_mode mode;
    /* Resolved: K23VM_BOUNDS_GUARD or K23VM_BOUNDS_EXPLICIT, never DEFAULT. */
    k23vm_bounds_mode bounds;
    /* The allocator shared by the engine's stores (src/store/alloc.c: the pooling allocator),
     * made by store_engine_init; NULL: every store uses a plain allocator of its own. */
    struct store_allocator *alloc;
};

/* The store's part of an engine (src/store/alloc.c). k23vm_engine_new calls store_engine_init
 * once plat, mode and bounds are set (an error fails the engine); k23vm_engine_delete calls
 * store_engine_fini before freeing the engine. */
k23vm_error *store_engine_init(k23vm_engine *e, const k23vm_engine_config *cfg);
void store_engine_fini(k23vm_engine *e);

/* Whether the platform has what guard-page bounds checking needs: reserve, commit, protect and
 * release, and a page size. */
bool engine_platform_has_vm(const k23vm_platform *p);

#endif
