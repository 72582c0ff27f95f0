/* config.h - the one place that tests compiler, OS and architecture macros (STYLE.md rule 11).
 * Everything else asks these K23VM_ macros. */
#ifndef K23VM_CONFIG_H
#define K23VM_CONFIG_H

#if defined(__x86_64__) || defined(_M_X64)
#define K23VM_ARCH_X86_64 1
#elif defined(__aarch64__)
#define K23VM_ARCH_AARCH64 1
#elif defined(__riscv) && __riscv_xlen == 64
#define K23VM_ARCH_RISCV64 1
#if defined(__riscv_float_abi_double)
#define K23VM_RISCV_FLOAT_REGS 1 /* fs0-fs11 are callee-saved (src/arch/ctx_riscv64.c) */
#endif
#endif

#if defined(__linux__)
#define K23VM_OS_LINUX 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define K23VM_LIKELY(x) __builtin_expect(!!(x), 1)
#define K23VM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define K23VM_INLINE static inline __attribute__((always_inline))
#define K23VM_NOINLINE __attribute__((noinline))
#define K23VM_COLD __attribute__((cold, noinline))
#define K23VM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define K23VM_LIKELY(x) (x)
#define K23VM_UNLIKELY(x) (x)
#define K23VM_INLINE static inline
#define K23VM_NOINLINE
#define K23VM_COLD
#define K23VM_PRINTF(f, a)
#endif

/* Debug-only checks of internal invariants; never on guest-controlled input (STYLE.md rule 10). */
#ifdef K23VM_DEBUG
#define K23VM_ASSERT(x) ((x) ? (void)0 : __builtin_trap())
#else
#define K23VM_ASSERT(x) ((void)0)
#endif

#endif
