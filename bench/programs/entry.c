/* entry.c - main() of every benchmark program, built from this one source both ways: natively
 * (gcc -O2) and as a WASI command (clang --target=wasm32-wasi -O2, wasi-libc). It times one call of
 * the kernel and prints the line bench/run reads from every runner:
 *
 *   checksum=N seconds=S cpu=C thread=T
 *
 *   S  CLOCK_MONOTONIC: wall-clock time of the call;
 *   C  CLOCK_PROCESS_CPUTIME_ID: CPU time of the whole process during the call; under Node that
 *      includes V8's background threads (TurboFan compiling, the garbage collector's helpers);
 *   T  CLOCK_THREAD_CPUTIME_ID: CPU time of the thread that runs the kernel only.
 *
 * In the wasm build each reading is WASI's clock_time_get with the clock of the same name, which
 * both runtimes answer from the host's clock of that name (k23vm's libk23wasi and node:wasi's
 * uvwasi call clock_gettime). Only the call of bench_run() is timed: reading, compiling and
 * instantiating the module and libc's start-up all happen before the first reading. bench_run()
 * lives in another translation unit, so the compiler cannot move its work across the readings.
 *
 * With the single argument --probe it returns at once without running the kernel: bench/run asks
 * k23vm whether this build serves an execution mode by running a program that way. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static double now(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return -1.0; /* main() fails the run: a clock the runtime lacks must not give a time */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--probe") == 0)
        return 0;
    double h0 = now(CLOCK_THREAD_CPUTIME_ID), c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    uint64_t ck = bench_run();
    double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID), h1 = now(CLOCK_THREAD_CPUTIME_ID);
    if (t0 < 0 || t1 < 0 || c0 < 0 || c1 < 0 || h0 < 0 || h1 < 0) {
        fprintf(stderr, "bench: clock_gettime failed\n");
        return 1;
    }
    printf("checksum=%" PRIu64 " seconds=%.6f cpu=%.6f thread=%.6f\n", ck, t1 - t0, c1 - c0, h1 - h0);
    return 0;
}
