/* ctx_none.c - arch_ctx_save / arch_ctx_restore (src/runtime.h) for architectures without their
 * own ctx_<arch>.c: guard-page bounds are not offered there (k23vm_store_new refuses them, and
 * explicit bounds never need a landing), so these are never called. */
#include "runtime.h"

#if !defined(K23VM_ARCH_X86_64) && !defined(K23VM_ARCH_AARCH64) && !defined(K23VM_ARCH_RISCV64)

const bool arch_ctx_supported = false;

int arch_ctx_save(exec_ctx *c)
{
    (void)c;
    return 0;
}

void arch_ctx_restore(const exec_ctx *c, int value)
{
    (void)c, (void)value;
    __builtin_trap();
}

#endif
