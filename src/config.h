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

/* AddressSanitizer: the hosted fault adapter tells it when a fault skips C frames. */
#if defined(__SANITIZE_ADDRESS__)
#define K23VM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define K23VM_ASAN 1
#endif
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

/* Interpreter dispatch (src/interp/exec.c): computed goto (direct threading) where the compiler
 * has labels as values, unless the build asks for the portable switch (CMake option
 * K23VM_INTERP_SWITCH, which defines the macro of the same name). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(K23VM_INTERP_SWITCH)
#define K23VM_INTERP_GOTO 1
#endif
/* Guard-page mode without software checks needs the interpreter's fault table (asm goto and an
 * ELF section of access/trap-path pairs, src/interp/exec.c); written for x86-64 so far. Elsewhere
 * the interpreter checks bounds in software in both modes. */
#if defined(K23VM_ARCH_X86_64) && defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define K23VM_INTERP_FAULT_TABLE 1
#endif
/* Population count as one instruction (else a bit-twiddling fallback: the libgcc helper
 * __popcountdi2 is not available to the freestanding core). */
#if defined(__POPCNT__) || defined(__aarch64__) || defined(__riscv_zbb)
#define K23VM_HAS_POPCNT 1
#endif
/* Hardware square root reachable by inline asm (else __builtin_sqrt, which may call libm). */
#if defined(K23VM_ARCH_X86_64) || defined(K23VM_ARCH_AARCH64) || (defined(K23VM_ARCH_RISCV64) && defined(__riscv_d))
#define K23VM_HAS_SQRT_ASM 1
#endif
/* The interpreter stores values little-endian in its slots, as the wasm memory is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "k23vm supports little-endian targets only"
#endif

/* Debug-only checks of internal invariants; never on guest-controlled input (STYLE.md rule 10). */
#ifdef K23VM_DEBUG
#define K23VM_ASSERT(x) ((x) ? (void)0 : __builtin_trap())
#else
#define K23VM_ASSERT(x) ((void)0)
#endif

#endif
