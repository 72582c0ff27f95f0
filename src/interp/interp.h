/* interp.h - the interpreter tier (ARCHITECTURE.md 4): what the rest of the VM calls.
 *
 * Functions are translated lazily, on their first call, from the validator's instruction stream
 * (validate_func with the translator as its sink) into internal code (code.h), which is kept per
 * module in module->interp_code and shared by every instance and thread; a translation is
 * published with one compare-and-swap, so two threads racing on a cold function both succeed and
 * one copy is kept. wasm->wasm calls run in one C activation on the store's VM stack
 * (runtime.h); only host functions, and wasm they call back, nest on the C stack.
 */
#ifndef K23VM_INTERP_H
#define K23VM_INTERP_H

#include "../runtime.h"

struct icode;

/* Runs wasm function f (FUNC_WASM) with the runtime.h calling convention: the arguments in
 * args_results[0 ..), the results written back there. Returns NULL or the trap, whose backtrace
 * holds this activation's frames, innermost first. Called by exec_call, which has checked the
 * re-entry depth; the frames go on the VM stack from s->stack_top. */
k23vm_trap *interp_call(k23vm_store *s, k23vm_func *f, slot *args_results);

/* The code of defined function defidx of m, translating it if no thread has yet. NULL with *err
 * set when memory runs out. */
const struct icode *interp_code(const k23vm_module *m, uint32_t defidx, k23vm_error **err);

/* Frees the module's translated code; for module deletion (module.c). */
void interp_module_free(k23vm_module *m);

/* Guard-page mode (runtime.h: "memory faults"): when a fault happened at pc in one of the
 * interpreter's guest memory accesses, the address at which execution must resume (the access's
 * out-of-bounds trap path, entered with the registers as they were at the fault), else 0.
 * Async-signal-safe: reads a table in the executable's read-only data. */
uintptr_t interp_fault_resume(uintptr_t pc);

/* Whether this build's guard-mode interpreter relies on faults (true on targets with the fault
 * table, x86-64 today); elsewhere it checks bounds in software in both modes. */
bool interp_guard_faults(void);

#endif
