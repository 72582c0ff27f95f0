/* entry_native.c - native entry of a benchmark program: times one call of the kernel and prints
 * "checksum=N seconds=S cpu=C", the line bench/run reads from every runner: S from the monotonic
 * clock, C the CPU time the process spent (which other work on a busy machine inflates less). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    uint64_t ck = bench_run();
    double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("checksum=%" PRIu64 " seconds=%.6f cpu=%.6f\n", ck, t1 - t0, c1 - c0);
    return 0;
}
