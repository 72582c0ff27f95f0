/* sieve.c - benchmark kernel: the sieve of Eratosthenes on a byte array of 4,000,000 flags,
 * repeated; strided byte stores, then a counting scan. */
#include "bench.h"

static volatile uint32_t sieve_passes = 25;

#define LIMIT 4000000u

static uint8_t composite[LIMIT + 1];

static uint64_t sieve(uint32_t limit)
{
    for (uint32_t i = 0; i <= limit; i++)
        composite[i] = 0;
    for (uint32_t p = 2; p * p <= limit; p++) {
        if (composite[p])
            continue;
        for (uint32_t m = p * p; m <= limit; m += p)
            composite[m] = 1;
    }
    uint32_t count = 0, last = 0;
    uint64_t sum = 0;
    for (uint32_t i = 2; i <= limit; i++) {
        if (!composite[i]) {
            count++;
            last = i;
            sum += i;
        }
    }
    return (uint64_t)count << 40 ^ (uint64_t)last << 20 ^ sum;
}

uint64_t bench_run(void)
{
    uint64_t ck = 0;
    uint32_t passes = sieve_passes;
    /* Each pass sieves a slightly different range so that no pass repeats the previous one. */
    for (uint32_t pass = 0; pass < passes; pass++)
        ck = bench_mix(ck, sieve(LIMIT - pass * 1000));
    return ck;
}
