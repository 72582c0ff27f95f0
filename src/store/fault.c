/* fault.c - k23vm_handle_fault (k23vm.h): deciding whether a memory fault is an out-of-bounds
 * access of running wasm code in guard-page mode, and where it resumes (ARCHITECTURE.md 7; the
 * protocol with exec_call and the tiers is in runtime.h).
 *
 * Called from a signal handler or a kernel's fault path, on the faulting thread: it only reads,
 * allocates nothing and takes no lock. The thread's innermost guarded activation (the value of
 * the platform's thread slot) names the store; the fault is ours when that activation is running
 * guest code (no host function) and the address lies in the reservation of one of the store's
 * memories. Two ways to resume, the first that applies:
 *  1. the tier knows the faulting PC (interp_fault_resume: one of the interpreter's guest memory
 *     accesses): resume there, every register as it was, and the tier raises the trap itself,
 *     with its backtrace;
 *  2. otherwise: the activation records the trap and the fault resumes in arch_ctx_restore with
 *     the activation's landing, so exec_call's arch_ctx_save returns a second time and the C
 *     frames of the tier are dropped.
 * The JIT will add its code ranges to the first way through the engine's code registry.
 */
#include "interp/interp.h"
#include "store.h"

bool k23vm_handle_fault(void *thread_slot_value, const k23vm_fault *fault, k23vm_fault_resume *resume)
{
    exec_guard *g = thread_slot_value;
    if (!g || !fault || !resume || g->in_host) return false;
    const k23vm_store *s = g->store;
    const memory_vec *mv = &s->priv->memories;
    bool ours = false;
    for (size_t i = 0; i < mv->len && !ours; i++) {
        const k23vm_memory *m = mv->data[i];
        ours = m->guard && m->reserved && fault->addr - (uintptr_t)m->base < m->reserved;
    }
    if (!ours) return false;
    g->fault_pc = fault->pc;
    g->fault_addr = fault->addr;
    uintptr_t at = interp_fault_resume(fault->pc);
    if (at) {
        *resume = (k23vm_fault_resume){at, fault->sp, fault->arg0, fault->arg1};
        return true;
    }
    g->fault_code = K23VM_TRAP_MEMORY_OUT_OF_BOUNDS;
    *resume = (k23vm_fault_resume){(uintptr_t)&arch_ctx_restore, fault->sp, (uintptr_t)&g->landing, 1};
    return true;
}
