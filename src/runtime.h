/* runtime.h - the runtime structure (spec 4.2) shared by the store (src/store/), the interpreter
 * (src/interp/) and later the JIT: stores, function instances, memories, tables, globals,
 * instances, traps, and the calling convention between tiers and host functions.
 *
 * Values live in 8-byte slots (uint64_t): i32 in the low 32 bits (upper bits unspecified),
 * i64, f32 (low 32 bits), f64 as raw bits; a reference as a pointer (k23vm_func* or the host's
 * externref pointer; NULL is the null reference); a v128 takes two consecutive slots, low half
 * first. A call passes its arguments in consecutive slots and receives its results in the same
 * slots, starting at the first (so callee frames overlap the caller's outgoing argument area and
 * nothing is copied on a wasm->wasm call).
 */
#ifndef K23VM_RUNTIME_H
#define K23VM_RUNTIME_H

#include "k23vm.h"
#include "engine.h"
#include "module.h"
#include "util.h"

typedef uint64_t slot;

/* Slots a value of type t takes. */
K23VM_INLINE uint32_t valtype_slots(valtype t) { return t == K23VM_V128 ? 2 : 1; }

/* ---- function instances (4.2.6) --------------------------------------------------------------- */

typedef enum func_kind { FUNC_WASM, FUNC_HOST } func_kind;

struct k23vm_func {
    uint8_t kind;      /* func_kind */
    uint32_t type_id;  /* store-wide id of the function type: equal ids <=> equal types (call_indirect) */
    const functype *type;
    const k23vm_functype *api_type; /* the same type as k23vm_func_type shows it */
    k23vm_store *store;
    /* FUNC_WASM */
    k23vm_instance *inst;
    uint32_t funcidx; /* in the module's function index space */
    /* FUNC_HOST */
    k23vm_trap *(*host)(void *env, k23vm_caller *caller, k23vm_val *args_results, size_t nargs, size_t nresults);
    void *env;
    void (*finalizer)(void *env);
};

/* ---- memories, tables, globals (4.2.8-4.2.10) -------------------------------------------------- */

struct k23vm_memory {
    k23vm_store *store;
    uint8_t *base;       /* never moves in guard mode; may move on grow in explicit mode */
    uint64_t size;       /* current size in bytes (pages * 65536) */
    uint64_t max_pages;  /* effective maximum: the type's max, capped by the store's limit */
    memtype type;
    /* Allocation bookkeeping is the allocator's (src/store/). */
    uint64_t reserved;   /* bytes of address space reserved at base (0: heap block, explicit mode) */
    bool guard;          /* guard-page mode: accesses are not checked in software */
    uint32_t alloc_slot; /* pooling allocator: the slot; plain: unused */
    uint64_t capacity;   /* bytes usable without moving base: committed or allocated */
};

struct k23vm_table {
    k23vm_store *store;
    void **elems; /* k23vm_func* or externref pointers; NULL is the null reference */
    uint32_t size;
    uint32_t max; /* effective maximum */
    tabletype type;
    /* Allocation bookkeeping is the allocator's (src/store/). */
    uint32_t capacity;   /* elements allocated at elems; elems may move on grow */
    uint32_t alloc_slot; /* pooling allocator: the slot; plain: unused */
};

struct k23vm_global {
    k23vm_store *store;
    globaltype type;
    slot value[2]; /* two slots for v128 */
};

/* ---- instances (4.2.5) ------------------------------------------------------------------------ */

struct k23vm_instance {
    k23vm_store *store;
    const k23vm_module *module;
    k23vm_func **funcs;       /* function index space */
    k23vm_table **tables;
    k23vm_memory **mems;
    k23vm_global **globals;
    uint32_t *type_ids;       /* module type index -> store type id */
    /* Element and data segment instances (4.2.11, 4.2.12): dropped segments have length 0. */
    uint32_t *elem_len;       /* per segment: current length (0 once dropped) */
    void ***elem_refs;        /* per segment: its evaluated references */
    uint32_t *data_len;       /* per segment: current length (0 once dropped) */
    /* ---- the rest belongs to src/store/ ---- */
    struct k23vm_instance *next_in_store;
    void *block;              /* the one allocation holding this struct and its arrays */
    size_t block_size;
    uint32_t alloc_slot;
};

/* ---- stores (4.2.3) ------------------------------------------------------------------------------
 * The store helper (src/store/) owns allocation and teardown; the fields below the execution ruler
 * are what the tiers read and write while running. */

struct k23vm_store {
    k23vm_engine *engine;
    const k23vm_platform *plat;

    /* ---- execution state, used by the tiers ---- */
    slot *stack_base;  /* the VM's own value stack: wasm calls never recurse on the C stack */
    slot *stack_limit; /* one past the last usable slot */
    slot *stack_top;   /* first free slot; a re-entrant call (host -> wasm) starts here */
    uint32_t reentry;      /* nested exec_call activations on the C stack */
    uint32_t max_reentry;
    bool fuel_enabled;
    int64_t fuel;                /* remaining, when fuel_enabled */
    volatile uint32_t interrupt; /* set by k23vm_store_interrupt from any thread */
    struct exec_guard *guard;    /* innermost activation (exec_call) running in this store */

    /* ---- the rest belongs to src/store/ ---- */
    struct store_private *priv;
};


/* ---- activations and memory faults (ARCHITECTURE.md 7) ----------------------------------------
 * The protocol between exec_call (src/store/), the tiers and the fault handler.
 *
 * exec_call wraps every entry into a tier in an exec_guard that lives on its C frame and is linked
 * into s->guard (innermost first). In guard-page bounds mode (engine->bounds == K23VM_BOUNDS_GUARD,
 * also memory->guard) it also saves a landing context with arch_ctx_save and publishes the guard
 * in the platform's thread slot before it enters the tier. A load or store out of bounds then
 * faults on an inaccessible page of the memory's reservation; the platform's fault handler
 * (src/platform/posix.c, or a kernel's) calls k23vm_handle_fault (src/store/fault.c), which checks
 * that this thread runs guest code (g->in_host clear) of a store one of whose memory reservations
 * holds the faulting address, and then answers, first that applies:
 *  1. interp_fault_resume(pc) != 0 (the PC is one of the interpreter's guest memory accesses):
 *     resume there with every register as it was; the tier raises the trap itself.
 *  2. otherwise: g->fault_code = K23VM_TRAP_MEMORY_OUT_OF_BOUNDS and resume in
 *     arch_ctx_restore(&g->landing, 1); exec_call's arch_ctx_save returns a second time and
 *     exec_call makes the trap. Every C frame between exec_call and the fault is dropped unrun.
 * For the second way, the tiers:
 *  - hold nothing on the C stack that needs releasing while guest memory accesses may fault: no
 *    allocation, no lock, no half-updated store structure. memory.grow, the bulk memory and
 *    table instructions and memory.init check bounds explicitly and never fault;
 *  - may set g->unwind (and g->tier_state) when they enter: exec_call calls g->unwind(g, trap) at
 *    the landing so the tier can push frames (trap_push_frame) from what it left in memory.
 * Either way exec_call restores s->stack_top, s->reentry and s->guard itself; the VM stack above
 * the entry's stack_top is dead after a trap. host_call sets g->in_host while a host function
 * runs: a fault in host code is not a wasm trap (the handler declines it and the process gets
 * the signal as without k23vm). In explicit bounds mode exec_call skips the landing and the
 * thread slot: nothing can fault. */

/* Callee-saved registers, stack and frame pointer and return address: what arch_ctx_save keeps
 * (src/arch/ctx_*.c). 32 words hold every supported architecture's set. */
typedef struct exec_ctx {
    uintptr_t regs[32];
} exec_ctx;

/* Like setjmp: returns 0 when called, and `value` when arch_ctx_restore(c, value) resumes it. The
 * frame that called arch_ctx_save must still be live at the restore. Local variables the caller
 * changes between the two returns must be read from memory (volatile, or through a pointer). */
__attribute__((returns_twice)) int arch_ctx_save(exec_ctx *c);
__attribute__((noreturn)) void arch_ctx_restore(const exec_ctx *c, int value);
/* Whether this build has arch_ctx_save/restore (false: guard-page bounds are not offered). */
extern const bool arch_ctx_supported;

typedef struct exec_guard {
    struct exec_guard *prev;        /* enclosing activation of this store (s->guard) */
    struct exec_guard *thread_prev; /* enclosing guarded activation on this thread, any store */
    k23vm_store *store;
    k23vm_func *func;               /* the function exec_call entered */
    slot *stack_top;                /* s->stack_top at entry */
    exec_ctx landing;               /* guard mode: where a fault resumes */
    volatile uint8_t in_host;       /* a host function runs (host_call) */
    volatile uint8_t fault_code;    /* k23vm_trap_code the fault handler recorded, or 0 */
    uintptr_t fault_pc, fault_addr;
    /* Optional, set by the tier: a backtrace for a trap raised by a fault. */
    void *tier_state;
    void (*unwind)(struct exec_guard *g, k23vm_trap *t);
} exec_guard;

/* ---- traps -------------------------------------------------------------------------------------- */

/* Makes a trap with the spec's message for code (k23vm.h) and, when msg is not NULL, that message
 * instead. The interpreter adds the backtrace with trap_push_frame. Never NULL (falls back to a
 * static out-of-memory trap). */
k23vm_trap *trap_new(k23vm_store *s, k23vm_trap_code code, const char *msg);
/* Appends a frame (innermost first: push as the stack unwinds). f is a wasm function; host
 * functions are skipped. module_offset is the trapping or calling instruction's offset in the
 * module, or SIZE_MAX. Running out of memory here loses the frame, not the trap. */
void trap_push_frame(k23vm_trap *t, const k23vm_func *f, size_t module_offset);
k23vm_trap_code trap_code(const k23vm_trap *t);

/* ---- calls ---------------------------------------------------------------------------------------
 * Every call into wasm, from the API or from a host function, goes through exec_call: it checks
 * the re-entry depth, then runs f in its tier. Host functions are called by the tiers through
 * host_call, which converts slots to k23vm_val and back. */
k23vm_trap *exec_call(k23vm_store *s, k23vm_func *f, slot *args_results);
k23vm_trap *host_call(k23vm_store *s, k23vm_func *f, slot *args_results);
/* host_call with the calling wasm function's instance, which the host reaches through its
 * k23vm_caller (memory, exports). host_call(s, f, a) is host_call_from(s, f, NULL, a): prefer this
 * one in a tier. */
k23vm_trap *host_call_from(k23vm_store *s, k23vm_func *f, k23vm_instance *caller, slot *args_results);

/* What exec_call guarantees a tier entry (interp_call):
 *  - s->stack_base != NULL; args_results == s->stack_top, a slot area on the VM stack holding the
 *    arguments with room for max(params, results) slots (exec_call copies them there and the
 *    results back), so the tier may build the callee frame in place; s->stack_top is where the
 *    tier starts, and before it calls a host function it sets s->stack_top above every live slot
 *    (a host function may re-enter wasm, which starts at s->stack_top).
 *  - s->guard is this entry's exec_guard.
 *  - the re-entry depth is within s->max_reentry; the tier checks its own frames against
 *    s->stack_limit ("call stack exhausted").
 * The tier entry point (src/interp/interp.h): */
k23vm_trap *interp_call(k23vm_store *s, k23vm_func *f, slot *args_results);

/* ---- growing (for the tiers and the API) -------------------------------------------------------
 * memory.grow (4.4.7) and table.grow: the old size, or -1 when the new size would pass the
 * effective maximum (type, store limit, pool slot) or memory cannot be had. In explicit mode a
 * memory's base may move (a heap block is reallocated): reload m->base and m->size after it.
 * table_grow fills the new elements with init; t->elems may move. */
int64_t memory_grow(k23vm_memory *m, uint64_t delta_pages);
int64_t table_grow(k23vm_table *t, uint64_t delta, void *init);

#endif
