/* exec.c - the interpreter's dispatch loop and entry (ARCHITECTURE.md 4): runs the internal code
 * of translate.c (code.h) on the store's VM stack.
 *
 * The handlers are written once, in run.inc (and simd.inc, which it includes), against the
 * dispatch and operand macros defined here. run.inc is compiled twice, for the two bounds modes:
 *   run_explicit  every access checks its effective address against the memory's size;
 *   run_guard     no software check: the memory's reservation (8 GiB + tail, src/store/) makes an
 *                 out-of-bounds access fault. Each access is an asm goto whose instruction and
 *                 out-of-bounds path are listed in the section k23vm_interp_xt, so the fault handler
 *                 resumes right there (interp_fault_resume; runtime.h "memory faults") and the trap
 *                 is raised with the registers, and so the backtrace, intact. Where that table is
 *                 not written yet (config.h K23VM_INTERP_FAULT_TABLE), run_guard checks like
 *                 run_explicit.
 * Dispatch is direct threading (the handler word is the label address, one indirect jump per
 * instruction), or a portable switch under K23VM_INTERP_SWITCH. Hot state lives in locals of the
 * run function, which the compiler keeps in registers: ip, the frame pointer, the memory base,
 * (explicit mode) its size, and the budget counter of the fuel/interrupt check.
 *
 * Calls never recurse on the C stack: a wasm call builds the callee's frame over its arguments
 * (code.h "frames") and jumps; a return reloads ip, fp and the caller function from the header.
 * Only host functions nest: host_call may re-enter wasm through exec_call, a new activation.
 *
 * Fuel and interrupts (k23vm.h): every function entry and every taken back edge spends one unit of
 * `budget`, a local counter: one decrement and a predicted branch. When it runs out, the slow path
 * (budget_refill) checks s->interrupt, then takes the next chunk of s->fuel (or, without fuel
 * metering, a fixed chunk), so an interrupt is seen within BUDGET_CHUNK units. Unspent budget goes
 * back to s->fuel whenever the activation leaves (return, trap, host call), so fuel is exact: one
 * unit per function entry and per loop iteration taken.
 */
#include "interp.h"

#include "../error.h"
#include "code.h"
#include "num.h"

/* Units of budget between two looks at s->interrupt when fuel is not metered. */
#define BUDGET_CHUNK 16384
/* Frames a trap's backtrace keeps at most (the innermost ones). */
#define TRACE_MAX 1024

/* ---- slot access ---------------------------------------------------------------------------------
 * Slots are 8-byte aligned; memory operands are unaligned. may_alias: the same bytes are read as
 * different types by different handlers. */
typedef uint64_t __attribute__((may_alias)) a_u64;
typedef uint32_t __attribute__((may_alias)) a_u32;
typedef float __attribute__((may_alias)) a_f32;
typedef double __attribute__((may_alias)) a_f64;
typedef uint16_t __attribute__((may_alias, aligned(1))) u_u16;
typedef uint32_t __attribute__((may_alias, aligned(1))) u_u32;
typedef uint64_t __attribute__((may_alias, aligned(1))) u_u64;
typedef double __attribute__((may_alias, aligned(1))) u_f64;

/* v128 as GCC/clang vector types: values (v_*) and slot or memory views (m_*: 8- or 1-aligned). */
typedef int8_t v_i8 __attribute__((vector_size(16)));
typedef uint8_t v_u8 __attribute__((vector_size(16)));
typedef int16_t v_i16 __attribute__((vector_size(16)));
typedef uint16_t v_u16 __attribute__((vector_size(16)));
typedef int32_t v_i32 __attribute__((vector_size(16)));
typedef uint32_t v_u32 __attribute__((vector_size(16)));
typedef int64_t v_i64 __attribute__((vector_size(16)));
typedef uint64_t v_u64 __attribute__((vector_size(16)));
typedef float v_f32 __attribute__((vector_size(16)));
typedef double v_f64 __attribute__((vector_size(16)));
typedef v_u64 __attribute__((may_alias, aligned(8))) m_v128;
typedef v_u64 __attribute__((may_alias, aligned(1))) u_v128;
typedef v_i8 __attribute__((may_alias, aligned(8))) ma_i8;
typedef v_u8 __attribute__((may_alias, aligned(8))) ma_u8;
typedef v_i16 __attribute__((may_alias, aligned(8))) ma_i16;
typedef v_u16 __attribute__((may_alias, aligned(8))) ma_u16;
typedef v_i32 __attribute__((may_alias, aligned(8))) ma_i32;
typedef v_u32 __attribute__((may_alias, aligned(8))) ma_u32;
typedef v_i64 __attribute__((may_alias, aligned(8))) ma_i64;
typedef v_u64 __attribute__((may_alias, aligned(8))) ma_u64;
typedef v_f32 __attribute__((may_alias, aligned(8))) ma_f32;
typedef v_f64 __attribute__((may_alias, aligned(8))) ma_f64;

/* ---- entry code ---------------------------------------------------------------------------------- */

/* A memory object for instances without memory: base NULL, size 0 (validation keeps every memory
 * instruction out of their code, but the return path reloads base and size unconditionally). */
static k23vm_memory no_memory;

/* ---- slow paths, out of the loop ------------------------------------------------------------------ */

/* Budget ran out (it is -1). Returns the next budget, or sets *code to the trap. */
static K23VM_NOINLINE int64_t budget_refill(k23vm_store *s, int *code)
{
    if (K23VM_UNLIKELY(s->interrupt)) {
        s->interrupt = 0; /* delivered */
        *code = K23VM_TRAP_INTERRUPTED;
        return 0;
    }
    if (!s->fuel_enabled) return BUDGET_CHUNK - 1;
    if (s->fuel <= 0) {
        *code = K23VM_TRAP_OUT_OF_FUEL;
        return 0;
    }
    int64_t take = s->fuel < BUDGET_CHUNK ? s->fuel : BUDGET_CHUNK;
    s->fuel -= take;
    return take - 1;
}

/* The activation leaves: unspent budget is fuel again. */
K23VM_INLINE void budget_return(k23vm_store *s, int64_t budget)
{
    if (s->fuel_enabled && budget > 0) s->fuel += budget;
}

/* The code of a wasm function, if translated. */
K23VM_INLINE const icode *func_code(const k23vm_func *g)
{
    const k23vm_module *m = g->inst->module;
    icode **cache = __atomic_load_n(&((k23vm_module *)m)->interp_code, __ATOMIC_ACQUIRE);
    return cache ? __atomic_load_n(&cache[g->funcidx - m->nfunc_imports], __ATOMIC_ACQUIRE) : NULL;
}

static K23VM_NOINLINE const icode *code_slow(const k23vm_module *m, uint32_t defidx)
{
    k23vm_error *err = NULL;
    const icode *c = interp_code(m, defidx, &err);
    if (!c) k23vm_error_delete(err);
    return c;
}

static uint32_t types_slots(const valtype *t, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) k += valtype_slots(t[i]);
    return k;
}

/* The module offset of the instruction at ip in c; for a return address, of the call before. */
static size_t pos_lookup(const icode *c, const icword *ip, bool ret_addr)
{
    if (ip < c->code || ip > c->code + c->nwords) return SIZE_MAX;
    uint32_t w = (uint32_t)(ip - c->code);
    if (ret_addr) {
        if (w == 0) return SIZE_MAX;
        w--;
    }
    uint32_t lo = 0, hi = c->npos; /* first entry past w */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->pos[mid].word <= w) lo = mid + 1;
        else hi = mid;
    }
    return lo ? c->pos[lo - 1].offset : SIZE_MAX;
}

/* Pushes this activation's frames onto t, innermost first, from (cur, ip, fp) out to the entry
 * frame (whose return address is `exit`). */
static void unwind(k23vm_trap *t, const k23vm_func *cur, const icword *ip, uint8_t *fp, const icword *exit)
{
    bool ret_addr = false;
    for (int n = 0; n < TRACE_MAX; n++) {
        const icode *c = func_code(cur);
        if (!c) break;
        trap_push_frame(t, cur, pos_lookup(c, ip, ret_addr));
        const slot *hdr = (const slot *)(fp + c->param_slots * 8u);
        const icword *rip = (const icword *)(uintptr_t)hdr[HDR_RET];
        if (rip == exit) break;
        fp = (uint8_t *)(uintptr_t)hdr[HDR_FP];
        cur = (const k23vm_func *)(uintptr_t)hdr[HDR_FUNC];
        ip = rip;
        ret_addr = true;
    }
}

/* The run function's state that is not kept in registers (run.inc). */
typedef struct run_state {
    k23vm_store *s;
    k23vm_func *cur; /* the function running */
    k23vm_instance *inst;
    k23vm_memory *memobj;
    icode **cache; /* inst's module's code cache */
    slot *limit, *entry_top;
    /* The generic call path's arguments: callee, its frame, the return address. */
    k23vm_func *callee;
    uint8_t *nfp;
    const icword *ret_ip;
    /* A trap being raised. */
    int trap_code;
    const char *trap_msg;
    k23vm_trap *host_trap;
} run_state;

static K23VM_NOINLINE k23vm_trap *raise(run_state *r, const icword *ip, uint8_t *fp, const icword *exit,
                                        int64_t budget)
{
    budget_return(r->s, budget);
    k23vm_trap *t = r->host_trap ? r->host_trap : trap_new(r->s, (k23vm_trap_code)r->trap_code, r->trap_msg);
    unwind(t, r->cur, ip, fp, exit);
    return t;
}

/* ---- operand and dispatch macros (used by run.inc) --------------------------------------------- */

/* Operand k (32-bit) of the current instruction. */
#define OPW(k) (ip[1 + (k) / 2].w[(k) % 2])
/* The slot operand k names. */
#define SLOTP(k) (fpb + OPW(k))
#define U64(k) (*(a_u64 *)SLOTP(k))
#define U32(k) (*(a_u32 *)SLOTP(k))
#define I32(k) ((int32_t)U32(k))
#define I64(k) ((int64_t)U64(k))
#define F32(k) (*(a_f32 *)SLOTP(k))
#define F64(k) (*(a_f64 *)SLOTP(k))
#define V128(k) (*(m_v128 *)SLOTP(k))
/* Results: always the whole slot (code.h). */
/* Every scalar result also stays in an accumulator register for the next instruction (iops.def
 * "operands from the accumulator"): an f64 in facc, any other in acc. */
#define PUT32(k, v) (U64(k) = acc = (uint64_t)(uint32_t)(v))
#define PUT64(k, v) (U64(k) = acc = (uint64_t)(v))
#define PUTF32(k, v) PUT32(k, f32_bits(v))
#define PUTF64(k, v) (facc = (v), U64(k) = f64_bits(facc))
#define PUTF64B(k, v) PUTF64(k, f64_of(v)) /* an f64 result given as bits */

#ifdef K23VM_INTERP_GOTO
#define CASE(name) L_##name:
#define DISPATCH() goto *ip->h
#else
#define CASE(name) case IOP_##name:
#define DISPATCH() goto dispatch
#endif

/* Instruction-pair profile (switch build with K23VM_INTERP_PROFILE): how often each internal
 * instruction follows each other, to choose superinstructions from measurements (issue 5). Not
 * thread-safe, not for production. */
#if defined(K23VM_INTERP_PROFILE) && !defined(K23VM_INTERP_GOTO)
uint64_t interp_profile[IOP_COUNT_][IOP_COUNT_];
#define PROFILE(op)                                \
    do {                                           \
        interp_profile[prof_prev][(op)]++;         \
        prof_prev = (unsigned)(op);                \
    } while (0)
#else
#define PROFILE(op) ((void)0)
#endif
/* To the next instruction, past this one (name: its internal opcode). */
#define NEXT(name)                         \
    do {                                   \
        ip += IWORDS(NOPND_##name);        \
        DISPATCH();                        \
    } while (0)
/* Branches: a displacement in words from this instruction; back edges spend budget. */
#define JUMP(d)                            \
    do {                                   \
        ip += (int32_t)(d);                \
        DISPATCH();                        \
    } while (0)
#define TICK()                                       \
    do {                                             \
        if (K23VM_UNLIKELY(--budget < 0)) goto refill; \
    } while (0)
#define JUMP_BACK(d)                       \
    do {                                   \
        ip += (int32_t)(d);                \
        TICK();                            \
        DISPATCH();                        \
    } while (0)
#define TRAP(code)                         \
    do {                                   \
        R.trap_code = (code);              \
        goto trap;                         \
    } while (0)

/* ---- guest memory access ------------------------------------------------------------------------- */

#ifdef K23VM_INTERP_FAULT_TABLE
/* The table: pairs of (access instruction, out-of-bounds path), as 32-bit self-relative offsets (no
 * relocations at load time), between the two markers below; the assembler orders subsections, so
 * the markers bracket every entry whatever order the compiler emits functions in. */
typedef struct xt_entry {
    int32_t pc, fix;
} xt_entry;
__asm__(".pushsection k23vm_interp_xt,\"a\"\n"
        ".subsection 0\n.balign 4\n.globl k23vm_interp_xt_start\n.hidden k23vm_interp_xt_start\n"
        "k23vm_interp_xt_start:\n"
        ".subsection 2\n.balign 4\n.globl k23vm_interp_xt_end\n.hidden k23vm_interp_xt_end\n"
        "k23vm_interp_xt_end:\n"
        ".popsection\n");
extern const xt_entry k23vm_interp_xt_start[] __attribute__((visibility("hidden")));
extern const xt_entry k23vm_interp_xt_end[] __attribute__((visibility("hidden")));

#define XT_ENTRY_TO(lbl)                                                          \
    ".pushsection k23vm_interp_xt,\"a\"\n.subsection 1\n.balign 4\n"              \
    ".long 1b - ., %l[" #lbl "] - .\n.popsection\n"
#define XT_ENTRY XT_ENTRY_TO(mem_oob)

/* Zero-extending loads of 1, 2, 4, 8 bytes into a uint64_t, 16 into a v_u64; stores. */
#define LOAD1(O_, A_) __asm__ goto("1: movzbl (%[ptr]), %k[o]\n" XT_ENTRY : [o] "=r"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define LOAD2(O_, A_) __asm__ goto("1: movzwl (%[ptr]), %k[o]\n" XT_ENTRY : [o] "=r"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define LOAD4(O_, A_) __asm__ goto("1: movl (%[ptr]), %k[o]\n" XT_ENTRY : [o] "=r"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define LOAD8(O_, A_) __asm__ goto("1: movq (%[ptr]), %q[o]\n" XT_ENTRY : [o] "=r"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define LOAD16(O_, A_) __asm__ goto("1: movdqu (%[ptr]), %[o]\n" XT_ENTRY : [o] "=x"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define STORE1(A_, V_) __asm__ goto("1: movb %b[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "r"((uint32_t)(V_)) : "memory" : mem_oob)
#define STORE2(A_, V_) __asm__ goto("1: movw %w[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "r"((uint32_t)(V_)) : "memory" : mem_oob)
#define STORE4(A_, V_) __asm__ goto("1: movl %k[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "r"((uint32_t)(V_)) : "memory" : mem_oob)
#define STORE8(A_, V_) __asm__ goto("1: movq %q[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "r"((uint64_t)(V_)) : "memory" : mem_oob)
/* f64 straight to and from an xmm register (no trip through a general register). */
#define LOADF(O_, A_) __asm__ goto("1: movsd (%[ptr]), %[o]\n" XT_ENTRY : [o] "=x"(O_) : [ptr] "r"(A_) : "memory" : mem_oob)
#define STOREF(A_, V_) __asm__ goto("1: movsd %[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "x"((double)(V_)) : "memory" : mem_oob)
/* The same with another out-of-bounds path: a fused instruction's second access (run.inc). */
#define LOADF_TO(O_, A_, L_) __asm__ goto("1: movsd (%[ptr]), %[o]\n" XT_ENTRY_TO(L_) : [o] "=x"(O_) : [ptr] "r"(A_) : "memory" : L_)
#define STOREF_TO(A_, V_, L_) __asm__ goto("1: movsd %[val], (%[ptr])\n" XT_ENTRY_TO(L_) : : [ptr] "r"(A_), [val] "x"((double)(V_)) : "memory" : L_)
/* One instruction, so a store that faults has written nothing (x86 faults are precise). */
#define STORE16(A_, V_) __asm__ goto("1: movdqu %[val], (%[ptr])\n" XT_ENTRY : : [ptr] "r"(A_), [val] "x"(V_) : "memory" : mem_oob)
#endif

#define PLAIN_LOAD1(out, p) ((out) = *(const uint8_t *)(p))
#define PLAIN_LOAD2(out, p) ((out) = *(const u_u16 *)(p))
#define PLAIN_LOAD4(out, p) ((out) = *(const u_u32 *)(p))
#define PLAIN_LOAD8(out, p) ((out) = *(const u_u64 *)(p))
#define PLAIN_LOAD16(out, p) ((out) = *(const u_v128 *)(p))
#define PLAIN_LOADF(out, p) ((out) = *(const u_f64 *)(p))
#define PLAIN_STOREF(p, v) (*(u_f64 *)(p) = (v))
#define PLAIN_STORE1(p, v) (*(uint8_t *)(p) = (uint8_t)(v))
#define PLAIN_STORE2(p, v) (*(u_u16 *)(p) = (uint16_t)(v))
#define PLAIN_STORE4(p, v) (*(u_u32 *)(p) = (uint32_t)(v))
#define PLAIN_STORE8(p, v) (*(u_u64 *)(p) = (uint64_t)(v))
#define PLAIN_STORE16(p, v) (*(u_v128 *)(p) = (v))

/* ---- the two run functions ------------------------------------------------------------------------- */

#define RUN_NAME run_explicit
#define RUN_CHECKED 1
#include "run.inc"
#undef RUN_NAME
#undef RUN_CHECKED

#define RUN_NAME run_guard
#ifdef K23VM_INTERP_FAULT_TABLE
#define RUN_CHECKED 0
#else
#define RUN_CHECKED 1
#endif
#include "run.inc"
#undef RUN_NAME
#undef RUN_CHECKED

/* ---- the tier's interface (interp.h) ------------------------------------------------------------ */

const void *const *interp_handler_table(bool guard)
{
    const void *const *table = NULL;
    const icword *exit = NULL;
    if (guard) run_guard(NULL, NULL, NULL, NULL, &table, &exit);
    else run_explicit(NULL, NULL, NULL, NULL, &table, &exit);
    return table;
}

k23vm_trap *interp_call(k23vm_store *s, k23vm_func *f, slot *args_results)
{
    const k23vm_module *m = f->inst->module;
    const icode *c = func_code(f);
    if (!c && !(c = code_slow(m, f->funcidx - m->nfunc_imports))) return trap_new(s, K23VM_TRAP_RESOURCE, NULL);
    bool guard = s->engine->bounds == K23VM_BOUNDS_GUARD;
    const void *const *table;
    const icword *exit;
    if (guard) run_guard(NULL, NULL, NULL, NULL, &table, &exit);
    else run_explicit(NULL, NULL, NULL, NULL, &table, &exit);

    /* The entry frame goes at s->stack_top; exec_call passes the arguments there already. */
    slot *fp = s->stack_top;
    uint32_t nargs = types_slots(f->type->params, f->type->nparams);
    if ((size_t)(s->stack_limit - fp) < c->frame_slots) {
        k23vm_trap *t = trap_new(s, K23VM_TRAP_STACK_EXHAUSTED, NULL);
        trap_push_frame(t, f, SIZE_MAX);
        return t;
    }
    if (args_results != fp) memmove(fp, args_results, nargs * sizeof(slot));
    slot *hdr = fp + c->param_slots;
    hdr[HDR_FP] = (slot)(uintptr_t)fp;
    hdr[HDR_RET] = (slot)(uintptr_t)exit;
    hdr[HDR_FUNC] = (slot)(uintptr_t)f;
    memset(hdr + FRAME_HDR, 0, c->local_slots * sizeof(slot));

    k23vm_trap *t = guard ? run_guard(s, f, fp, c->code, NULL, NULL) : run_explicit(s, f, fp, c->code, NULL, NULL);
    s->stack_top = fp;
    if (!t && args_results != fp) memmove(args_results, fp, c->result_slots * sizeof(slot));
    return t;
}

uintptr_t interp_fault_resume(uintptr_t pc)
{
#ifdef K23VM_INTERP_FAULT_TABLE
    for (const xt_entry *e = k23vm_interp_xt_start; e < k23vm_interp_xt_end; e++)
        if ((uintptr_t)&e->pc + (intptr_t)e->pc == pc) return (uintptr_t)&e->fix + (intptr_t)e->fix;
#endif
    (void)pc;
    return 0;
}

bool interp_guard_faults(void)
{
#ifdef K23VM_INTERP_FAULT_TABLE
    return true;
#else
    return false;
#endif
}
