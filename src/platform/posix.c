/* posix.c - the hosted platform (include/k23vm/platform.h) for Linux and other POSIX systems.
 * The only file of the library that calls the operating system.
 *
 * Guard-page bounds: the thread slot is a thread-local variable, and fault_init installs
 * SIGSEGV and SIGBUS handlers (again whenever something replaced them) that hand every fault to
 * k23vm_handle_fault
 * (src/store/fault.c). When the fault is an out-of-bounds access of wasm code, the handler edits
 * the interrupted context as k23vm_handle_fault says (program counter, stack pointer, first two
 * argument registers) and returns: the kernel's sigreturn then enters the core's context restore
 * routine with the signal mask as it was, which a longjmp out of the handler would not give.
 * Faults that are not ours go to the handler that was installed before ours, or, if that was
 * the default action, the default is restored and the faulting instruction runs again into it.
 * Editing the context is written for Linux on x86-64, AArch64 and RISC-V 64; elsewhere the
 * platform has no thread_slot hook and guard-page stores cannot be made (explicit bounds work).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "config.h"
#include "k23vm.h"

static void *px_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}

static void *px_realloc(void *ctx, void *p, size_t old, size_t n)
{
    (void)ctx, (void)old;
    return realloc(p, n);
}

static void px_free(void *ctx, void *p, size_t n)
{
    (void)ctx, (void)n;
    free(p);
}

static int px_prot(int prot)
{
    return (prot & K23VM_PROT_READ ? PROT_READ : 0) | (prot & K23VM_PROT_WRITE ? PROT_WRITE : 0) |
           (prot & K23VM_PROT_EXEC ? PROT_EXEC : 0);
}

static void *px_reserve(void *ctx, size_t size)
{
    (void)ctx;
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static bool px_commit(void *ctx, void *addr, size_t size, int prot)
{
    (void)ctx;
    return mprotect(addr, size, px_prot(prot)) == 0;
}

static bool px_decommit(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    void *p = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p != MAP_FAILED;
}

static bool px_protect(void *ctx, void *addr, size_t size, int prot)
{
    (void)ctx;
    return mprotect(addr, size, px_prot(prot)) == 0;
}

static void px_release(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    munmap(addr, size);
}

static bool px_make_executable(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    if (mprotect(addr, size, PROT_READ | PROT_EXEC) != 0) return false;
    __builtin___clear_cache((char *)addr, (char *)addr + size);
    return true;
}

static uint64_t px_monotonic_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void px_log(void *ctx, k23vm_log_level level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    fprintf(stderr, "k23vm %s: %s\n", names[level & 3], msg);
}

/* ---- guard-page faults ------------------------------------------------------------------------- */

#if defined(K23VM_OS_LINUX) && (defined(K23VM_ARCH_X86_64) || defined(K23VM_ARCH_AARCH64) || defined(K23VM_ARCH_RISCV64))
#define PX_HAVE_FAULTS 1

static __thread void *px_current; /* the thread's innermost guarded activation (runtime.h) */

static void **px_thread_slot(void *ctx)
{
    (void)ctx;
    return &px_current;
}

static struct sigaction px_prev_segv, px_prev_bus;

#ifdef K23VM_ASAN
/* The fault may resume in exec_call, past C frames that never return: their stack poisoning is
 * stale, as after a longjmp, which AddressSanitizer learns of through this call. */
void __asan_handle_no_return(void);
#endif

static void px_fault_of(const ucontext_t *uc, k23vm_fault *f)
{
#if defined(K23VM_ARCH_X86_64)
    f->pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    f->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    f->fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
    f->arg0 = (uintptr_t)uc->uc_mcontext.gregs[REG_RDI];
    f->arg1 = (uintptr_t)uc->uc_mcontext.gregs[REG_RSI];
#elif defined(K23VM_ARCH_AARCH64)
    f->pc = (uintptr_t)uc->uc_mcontext.pc;
    f->sp = (uintptr_t)uc->uc_mcontext.sp;
    f->fp = (uintptr_t)uc->uc_mcontext.regs[29];
    f->arg0 = (uintptr_t)uc->uc_mcontext.regs[0];
    f->arg1 = (uintptr_t)uc->uc_mcontext.regs[1];
#else
    f->pc = (uintptr_t)uc->uc_mcontext.__gregs[REG_PC];
    f->sp = (uintptr_t)uc->uc_mcontext.__gregs[REG_SP];
    f->fp = (uintptr_t)uc->uc_mcontext.__gregs[REG_S0];
    f->arg0 = (uintptr_t)uc->uc_mcontext.__gregs[REG_A0];
    f->arg1 = (uintptr_t)uc->uc_mcontext.__gregs[REG_A0 + 1];
#endif
}

static void px_resume(ucontext_t *uc, const k23vm_fault_resume *r)
{
#if defined(K23VM_ARCH_X86_64)
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)r->pc;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)r->sp;
    uc->uc_mcontext.gregs[REG_RDI] = (greg_t)r->arg0;
    uc->uc_mcontext.gregs[REG_RSI] = (greg_t)r->arg1;
#elif defined(K23VM_ARCH_AARCH64)
    uc->uc_mcontext.pc = r->pc;
    uc->uc_mcontext.sp = r->sp;
    uc->uc_mcontext.regs[0] = r->arg0;
    uc->uc_mcontext.regs[1] = r->arg1;
#else
    uc->uc_mcontext.__gregs[REG_PC] = r->pc;
    uc->uc_mcontext.__gregs[REG_SP] = r->sp;
    uc->uc_mcontext.__gregs[REG_A0] = r->arg0;
    uc->uc_mcontext.__gregs[REG_A0 + 1] = r->arg1;
#endif
}

static void px_on_fault(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    k23vm_fault f;
    px_fault_of(uc, &f);
    f.addr = (uintptr_t)info->si_addr;
    k23vm_fault_resume r;
    /* Only a fault the kernel raised for an instruction (si_code > 0) can be wasm's. A SIGSEGV
     * or SIGBUS sent by kill, raise or sigqueue (si_code <= 0) has no fault address (si_addr
     * overlays the sender's pid and uid) and runs nothing again when the handler returns. */
    bool sent = info->si_code <= 0;
    if (!sent && k23vm_handle_fault(px_current, &f, &r)) {
#ifdef K23VM_ASAN
        __asan_handle_no_return();
#endif
        px_resume(uc, &r);
        return;
    }
    /* Not ours: chain. */
    const struct sigaction *prev = sig == SIGBUS ? &px_prev_bus : &px_prev_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, context);
    } else if (sent && (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN)) {
        /* A sent signal is not raised again by returning: the default action must happen now
         * (it is blocked while we run, so raise leaves it pending until the handler returns),
         * and an ignored one stays ignored with our handler left in place. */
        if (prev->sa_handler == SIG_DFL) {
            sigaction(sig, prev, NULL);
            raise(sig);
        }
    } else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
        /* Put the old disposition back; the instruction faults again and the default acts (an
         * ignored SIGSEGV from a real fault would only loop). */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, prev->sa_handler == SIG_DFL ? prev : &dfl, NULL);
    } else {
        prev->sa_handler(sig);
    }
}

/* Installs px_on_fault for SIGSEGV and SIGBUS unless it is already there, keeping what was
 * there to chain to. Another library (or a test harness) may have put its own handler in since
 * the last store was made; then ours goes back on top of it. The lock keeps two threads from
 * installing at once (each would chain to the other). */
static int px_fault_lock;

static bool px_install(int sig, struct sigaction *prev)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0) return false;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == px_on_fault) return true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = px_on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    *prev = cur;
    return sigaction(sig, &sa, NULL) == 0;
}

static bool px_fault_init(void *ctx)
{
    (void)ctx;
    while (__atomic_exchange_n(&px_fault_lock, 1, __ATOMIC_ACQUIRE)) {
    }
    bool ok = px_install(SIGSEGV, &px_prev_segv) && px_install(SIGBUS, &px_prev_bus);
    __atomic_store_n(&px_fault_lock, 0, __ATOMIC_RELEASE);
    return ok;
}
#endif

static k23vm_platform posix_platform = {
    .ctx = NULL,
    .alloc = px_alloc,
    .realloc = px_realloc,
    .free = px_free,
    .reserve = px_reserve,
    .commit = px_commit,
    .decommit = px_decommit,
    .protect = px_protect,
    .release = px_release,
    .make_executable = px_make_executable,
    .monotonic_ns = px_monotonic_ns,
    .log = px_log,
#ifdef PX_HAVE_FAULTS
    .thread_slot = px_thread_slot,
    .fault_init = px_fault_init,
#endif
};

const k23vm_platform *k23vm_platform_default(void)
{
    if (!posix_platform.page_size) posix_platform.page_size = (size_t)sysconf(_SC_PAGESIZE);
    return &posix_platform;
}
