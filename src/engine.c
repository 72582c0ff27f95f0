/* engine.c - k23vm_engine (include/k23vm.h, src/engine.h): configuration defaults, the choice of
 * platform, and the checks that a configuration can be served.
 *
 * The hosted default platform. The core is freestanding and must not need any symbol from outside
 * but memcpy/memset/memmove/memcmp (tests/check-freestanding.sh), so it cannot call
 * k23vm_platform_default() (src/platform/posix.c) directly, and a weak reference would still show
 * up as undefined. Instead the core reaches it through the pointer k23vm_default_platform_hook,
 * which it defines here weakly as NULL. include/k23vm.h defines the same pointer, weakly as well
 * but set to k23vm_platform_default, in every hosted translation unit that includes it (that is,
 * compiled without -ffreestanding). The linker keeps the first weak definition it meets, which is
 * the program's own (objects come before libk23vm.a), and that definition's reference pulls the
 * POSIX platform out of the archive. A kernel build includes the header freestanding, keeps
 * this NULL, and must pass its own platform.
 */
#define K23VM_NO_DEFAULT_PLATFORM 1 /* this file defines the hook itself */
#include "engine.h"

#include "error.h"
#include "runtime.h"
#include "util.h"

__attribute__((weak, visibility("default"))) const k23vm_platform *(*k23vm_default_platform_hook)(void) =
    NULL;

void k23vm_engine_config_init(k23vm_engine_config *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->platform = NULL;
    cfg->mode = K23VM_MODE_INTERP;
    cfg->bounds = K23VM_BOUNDS_DEFAULT;
}

bool engine_platform_has_vm(const k23vm_platform *p)
{
    return p->page_size != 0 && p->reserve && p->commit && p->protect && p->release;
}

/* Execution modes this build can run. The JIT tiers arrive with their back ends (ARCHITECTURE.md
 * 5); until then asking for them is an error rather than a silent fallback. */
static bool mode_built_in(k23vm_exec_mode mode)
{
    switch (mode) {
    case K23VM_MODE_INTERP: return true;
#ifdef K23VM_HAVE_JIT
    case K23VM_MODE_JIT:
    case K23VM_MODE_TIERED: return true;
#endif
    default: return false;
    }
}

k23vm_error *k23vm_engine_new(const k23vm_engine_config *cfg, k23vm_engine **out)
{
    if (!out) return err_static(ERR_STATIC_NULL_ARG);
    *out = NULL;
    k23vm_engine_config defaults;
    if (!cfg) {
        k23vm_engine_config_init(&defaults);
        cfg = &defaults;
    }
    const k23vm_platform *plat = cfg->platform;
    if (!plat && k23vm_default_platform_hook) plat = k23vm_default_platform_hook();
    if (!plat) return err_static(ERR_STATIC_NO_PLATFORM);
    if (!plat->alloc || !plat->realloc || !plat->free) return err_static(ERR_STATIC_BAD_PLATFORM);

    if (!mode_built_in(cfg->mode))
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET,
                       "execution mode %d is not built into this library", (int)cfg->mode);
    k23vm_bounds_mode bounds = cfg->bounds;
    /* Guard pages need a large address space (8 GiB per memory), the virtual-memory hooks, and a
     * way back from a fault: a thread slot for the running activation and the arch's context
     * save/restore (runtime.h). */
    bool guard_ok = engine_platform_has_vm(plat) && sizeof(void *) >= 8 && plat->thread_slot && arch_ctx_supported;
    switch (bounds) {
    case K23VM_BOUNDS_DEFAULT: bounds = guard_ok ? K23VM_BOUNDS_GUARD : K23VM_BOUNDS_EXPLICIT; break;
    case K23VM_BOUNDS_GUARD:
        if (!guard_ok)
            return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET,
                           "guard-page bounds need a 64-bit platform with reserve/commit/protect/release "
                           "and thread_slot hooks, on an architecture with fault recovery");
        break;
    case K23VM_BOUNDS_EXPLICIT: break;
    default:
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "unknown bounds mode %d", (int)bounds);
    }

    k23vm_engine *e = mem_zalloc(plat, sizeof *e);
    if (!e) return err_oom();
    e->plat = *plat;
    e->mode = cfg->mode;
    e->bounds = bounds;
    /* The stores' allocator (pooling or plain) is made once per engine (src/store/alloc.c). */
    k23vm_error *err = store_engine_init(e, cfg);
    if (err) {
        mem_free(plat, e, sizeof *e);
        return err;
    }
    *out = e;
    return NULL;
}

void k23vm_engine_delete(k23vm_engine *engine)
{
    if (!engine) return;
    store_engine_fini(engine);
    /* The hooks live inside the block being freed: copy them out first. */
    k23vm_platform plat = engine->plat;
    mem_free(&plat, engine, sizeof *engine);
}
