/* num.h - the numeric semantics of WebAssembly (spec 4.3) that C operators do not give directly,
 * for the interpreter's handlers (exec.c, simd.inc) and later the JIT's slow paths.
 *
 * Freestanding: no libm and no libgcc helpers. Rounding functions work on the bits (exact by
 * construction), sqrt is one instruction reached by inline asm (config.h), popcount is one
 * instruction or a bit-twiddling sum. NaN results (4.3.3 "NaN propagation"): an operation on NaN
 * returns a NaN, canonical when every NaN input is canonical; x + x on a NaN x gives x with its
 * quiet bit set, which meets both rules, and is how these helpers return NaN inputs.
 */
#ifndef K23VM_INTERP_NUM_H
#define K23VM_INTERP_NUM_H

#include <stdint.h>

#include "../config.h"

K23VM_INLINE uint32_t f32_bits(float f)
{
    union { float f; uint32_t u; } x = {.f = f};
    return x.u;
}
K23VM_INLINE float f32_of(uint32_t u)
{
    union { uint32_t u; float f; } x = {.u = u};
    return x.f;
}
K23VM_INLINE uint64_t f64_bits(double f)
{
    union { double f; uint64_t u; } x = {.f = f};
    return x.u;
}
K23VM_INLINE double f64_of(uint64_t u)
{
    union { uint64_t u; double f; } x = {.u = u};
    return x.f;
}

/* A product kept apart from the sum that consumes it, for handlers that do both (4.3.3: each
 * operation rounds on its own). GNU C contracts a * b + c into one fused multiply-add across
 * statements where the target has the instruction (aarch64, riscv64; -ffp-contract=fast is the
 * GNU dialect's default); GCC 12's __builtin_assoc_barrier stops it. clang contracts only within
 * one expression, which the handlers' separate statements already avoid; an older GCC gets a
 * trip through memory, which nothing can fuse across. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_assoc_barrier)
#define NUM_HAVE_ASSOC_BARRIER 1
#endif
#endif
K23VM_INLINE double num_f64_unfused(double x)
{
#if defined(NUM_HAVE_ASSOC_BARRIER)
    return __builtin_assoc_barrier(x);
#elif defined(__clang__)
    return x;
#else
    __asm__("" : "+m"(x));
    return x;
#endif
}

/* ---- integers (4.3.2) --------------------------------------------------------------------------- */

K23VM_INLINE uint32_t num_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32u; }
K23VM_INLINE uint32_t num_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32u; }
K23VM_INLINE uint64_t num_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64u; }
K23VM_INLINE uint64_t num_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64u; }

K23VM_INLINE uint64_t num_popcnt64(uint64_t x)
{
#ifdef K23VM_HAS_POPCNT
    return (uint64_t)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (x * 0x0101010101010101ull) >> 56;
#endif
}
K23VM_INLINE uint32_t num_popcnt32(uint32_t x) { return (uint32_t)num_popcnt64(x); }

K23VM_INLINE uint32_t num_rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}
K23VM_INLINE uint32_t num_rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a >> b) | (a << ((32 - b) & 31));
}
K23VM_INLINE uint64_t num_rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a << b) | (a >> ((64 - b) & 63));
}
K23VM_INLINE uint64_t num_rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a >> b) | (a << ((64 - b) & 63));
}

/* ---- floats (4.3.3) -------------------------------------------------------------------------------- */

#define F32_SIGN 0x80000000u
#define F64_SIGN 0x8000000000000000ull

/* fmin/fmax: NaN if either is; -0 is below +0. */
K23VM_INLINE float num_f32_min(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f32_of(f32_bits(a) | f32_bits(b));
    return a < b ? a : b;
}
K23VM_INLINE float num_f32_max(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f32_of(f32_bits(a) & f32_bits(b));
    return a > b ? a : b;
}
K23VM_INLINE double num_f64_min(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f64_of(f64_bits(a) | f64_bits(b));
    return a < b ? a : b;
}
K23VM_INLINE double num_f64_max(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return f64_of(f64_bits(a) & f64_bits(b));
    return a > b ? a : b;
}

/* ftrunc on the bits: clear the fraction bits below the binary point. */
K23VM_INLINE float num_f32_trunc(float x)
{
    uint32_t u = f32_bits(x), e = (u >> 23) & 0xFF;
    if (e == 0xFF) return x + x;      /* NaN, infinity */
    if (e >= 0x7F + 23) return x;     /* already integral */
    if (e < 0x7F) return f32_of(u & F32_SIGN); /* |x| < 1 */
    return f32_of(u & ~((1u << (23 - (e - 0x7F))) - 1));
}
K23VM_INLINE double num_f64_trunc(double x)
{
    uint64_t u = f64_bits(x), e = (u >> 52) & 0x7FF;
    if (e == 0x7FF) return x + x;
    if (e >= 0x3FF + 52) return x;
    if (e < 0x3FF) return f64_of(u & F64_SIGN);
    return f64_of(u & ~((1ull << (52 - (e - 0x3FF))) - 1));
}
/* floor/ceil from trunc: the one step back is exact below 2^23 / 2^52; the sign of a zero result
 * is the operand's (floor(-0.5) = -1, ceil(-0.5) = -0). */
K23VM_INLINE float num_f32_floor(float x)
{
    float t = num_f32_trunc(x);
    return (x < 0 && t != x) ? t - 1.0f : t;
}
K23VM_INLINE float num_f32_ceil(float x)
{
    float t = num_f32_trunc(x);
    return (x > 0 && t != x) ? t + 1.0f : t;
}
K23VM_INLINE double num_f64_floor(double x)
{
    double t = num_f64_trunc(x);
    return (x < 0 && t != x) ? t - 1.0 : t;
}
K23VM_INLINE double num_f64_ceil(double x)
{
    double t = num_f64_trunc(x);
    return (x > 0 && t != x) ? t + 1.0 : t;
}
/* fnearest: round half to even. Adding and subtracting 2^23 (2^52) rounds |x| in the default
 * rounding mode, which is to nearest-even; the sign is put back, so nearest(-0.3) = -0. */
K23VM_INLINE float num_f32_nearest(float x)
{
    uint32_t u = f32_bits(x), e = (u >> 23) & 0xFF;
    if (e == 0xFF) return x + x;
    if (e >= 0x7F + 23) return x;
    volatile float big = 8388608.0f; /* volatile: the compiler must not fold (a + big) - big */
    float a = f32_of(u & ~F32_SIGN);
    float r = (a + big) - big;
    return f32_of(f32_bits(r) | (u & F32_SIGN));
}
K23VM_INLINE double num_f64_nearest(double x)
{
    uint64_t u = f64_bits(x), e = (u >> 52) & 0x7FF;
    if (e == 0x7FF) return x + x;
    if (e >= 0x3FF + 52) return x;
    volatile double big = 4503599627370496.0;
    double a = f64_of(u & ~F64_SIGN);
    double r = (a + big) - big;
    return f64_of(f64_bits(r) | (u & F64_SIGN));
}

K23VM_INLINE float num_f32_sqrt(float x)
{
#if defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_X86_64)
    __asm__("sqrtss %1, %0" : "=x"(x) : "x"(x));
    return x;
#elif defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_AARCH64)
    __asm__("fsqrt %s0, %s1" : "=w"(x) : "w"(x));
    return x;
#elif defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_RISCV64)
    __asm__("fsqrt.s %0, %1" : "=f"(x) : "f"(x));
    return x;
#else
    return __builtin_sqrtf(x);
#endif
}
K23VM_INLINE double num_f64_sqrt(double x)
{
#if defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_X86_64)
    __asm__("sqrtsd %1, %0" : "=x"(x) : "x"(x));
    return x;
#elif defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_AARCH64)
    __asm__("fsqrt %d0, %d1" : "=w"(x) : "w"(x));
    return x;
#elif defined(K23VM_HAS_SQRT_ASM) && defined(K23VM_ARCH_RISCV64)
    __asm__("fsqrt.d %0, %1" : "=f"(x) : "f"(x));
    return x;
#else
    return __builtin_sqrt(x);
#endif
}

/* ---- conversions (4.3.4) ------------------------------------------------------------------------
 * trunc: NaN is "invalid conversion to integer", a value whose truncation is out of range
 * "integer overflow". The bounds are the first values out of range, exact in each float type:
 * e.g. i32 from f64 takes (-2^31 - 1, 2^31) exclusive, from f32 [-2^31, 2^31). */
enum { NUM_OK = 0, NUM_INVALID = 1, NUM_OVERFLOW = 2 };

#define NUM_TRUNC(name, F, I, lo_ok, hi)                                   \
    K23VM_INLINE int name(F x, I *out)                                     \
    {                                                                      \
        if (x != x) return NUM_INVALID;                                    \
        if (!(lo_ok && x < (hi))) return NUM_OVERFLOW;                     \
        *out = (I)x;                                                       \
        return NUM_OK;                                                     \
    }
NUM_TRUNC(num_i32_trunc_f32_s, float, int32_t, x >= -2147483648.0f, 2147483648.0f)
NUM_TRUNC(num_i32_trunc_f32_u, float, uint32_t, x > -1.0f, 4294967296.0f)
NUM_TRUNC(num_i32_trunc_f64_s, double, int32_t, x > -2147483649.0, 2147483648.0)
NUM_TRUNC(num_i32_trunc_f64_u, double, uint32_t, x > -1.0, 4294967296.0)
NUM_TRUNC(num_i64_trunc_f32_s, float, int64_t, x >= -9223372036854775808.0f, 9223372036854775808.0f)
NUM_TRUNC(num_i64_trunc_f32_u, float, uint64_t, x > -1.0f, 18446744073709551616.0f)
NUM_TRUNC(num_i64_trunc_f64_s, double, int64_t, x >= -9223372036854775808.0, 9223372036854775808.0)
NUM_TRUNC(num_i64_trunc_f64_u, double, uint64_t, x > -1.0, 18446744073709551616.0)
#undef NUM_TRUNC

/* trunc_sat (4.3.4): NaN is 0, out of range saturates. */
#define NUM_SAT(name, F, I, lo_ok, hi, minv, maxv)                         \
    K23VM_INLINE I name(F x)                                               \
    {                                                                      \
        if (x != x) return 0;                                              \
        if (!(lo_ok)) return (minv);                                       \
        if (!(x < (hi))) return (maxv);                                    \
        return (I)x;                                                       \
    }
NUM_SAT(num_i32_sat_f32_s, float, int32_t, x >= -2147483648.0f, 2147483648.0f, INT32_MIN, INT32_MAX)
NUM_SAT(num_i32_sat_f32_u, float, uint32_t, x > -1.0f, 4294967296.0f, 0, UINT32_MAX)
NUM_SAT(num_i32_sat_f64_s, double, int32_t, x > -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX)
NUM_SAT(num_i32_sat_f64_u, double, uint32_t, x > -1.0, 4294967296.0, 0, UINT32_MAX)
NUM_SAT(num_i64_sat_f32_s, float, int64_t, x >= -9223372036854775808.0f, 9223372036854775808.0f, INT64_MIN, INT64_MAX)
NUM_SAT(num_i64_sat_f32_u, float, uint64_t, x > -1.0f, 18446744073709551616.0f, 0, UINT64_MAX)
NUM_SAT(num_i64_sat_f64_s, double, int64_t, x >= -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX)
NUM_SAT(num_i64_sat_f64_u, double, uint64_t, x > -1.0, 18446744073709551616.0, 0, UINT64_MAX)
#undef NUM_SAT

#endif
