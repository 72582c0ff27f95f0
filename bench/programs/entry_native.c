/* entry_native.c - native entry of a benchmark program: times one call of the kernel with the
 * monotonic clock and prints "checksum=N seconds=S", the line bench/run reads from every runner. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    double t0 = now();
    uint64_t ck = bench_run();
    double t1 = now();
    printf("checksum=%" PRIu64 " seconds=%.6f\n", ck, t1 - t0);
    return 0;
}
