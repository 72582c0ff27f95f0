/* fib.c - benchmark kernel: naive recursive Fibonacci, the call-heavy case (two calls per
 * invocation, almost no work between them). Computes fib(32) REPEAT times. */
#include "bench.h"

static volatile uint32_t fib_n = 32;
static volatile uint32_t fib_repeat = 70;

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

uint64_t bench_run(void)
{
    uint64_t ck = 0;
    uint32_t repeat = fib_repeat;
    for (uint32_t r = 0; r < repeat; r++)
        ck = bench_mix(ck, fib(fib_n));
    return ck;
}
