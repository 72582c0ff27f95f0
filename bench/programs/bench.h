/* bench.h - what every benchmark kernel in bench/programs/ shares.
 *
 * A kernel is one C file defining bench_run(), which computes a deterministic 64-bit checksum and
 * returns it. It uses nothing from a C library: only <stdint.h>/<stddef.h> and compiler builtins,
 * so that what is timed is the kernel's own code, the same in every build. entry.c's main() calls it
 * between clock readings and prints the result; the same two files build as
 *   - a WASI command (clang --target=wasm32-wasi -O2, wasi-libc), run by `k23vm run` and node:wasi,
 *   - native (gcc -O2), the reference for time and checksum.
 * Kernels must not depend on the size of pointers, long or size_t (wasm32 is ILP32, x86-64 LP64),
 * nor on undefined behaviour: unsigned arithmetic only where it may wrap. Work sizes are read from
 * volatile globals so that no compiler folds the computation away. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* The kernel: returns the checksum. Defined once per program. */
uint64_t bench_run(void);

/* A 32-bit xorshift generator: inputs are made, never read from anywhere. */
static inline uint32_t bench_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Folds a value into a running checksum (FNV-1a style over 64-bit words). */
static inline uint64_t bench_mix(uint64_t ck, uint64_t v)
{
    return (ck ^ v) * UINT64_C(0x100000001b3) + (ck >> 29);
}

/* The bits of a double, for checksums over floating-point results: exact IEEE arithmetic gives
 * the same bits on every target. */
static inline uint64_t bench_f64_bits(double d)
{
    uint64_t u;
    __builtin_memcpy(&u, &d, sizeof u);
    return u;
}

#endif /* BENCH_H */
