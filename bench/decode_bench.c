/* decode_bench.c - decode + validate throughput: for each module file given, times
 * k23vm_module_new + k23vm_module_delete (the whole path from bytes to a validated module) over
 * several runs and prints the best and median in MB/s (1 MB = 10^6 bytes). `make bench` runs it on
 * a large real module (esbuild.wasm, fetched with npm into build/bench-deps/) and on the demo.
 *
 *   decode_bench [-n RUNS] [-t SECONDS] FILE...
 * Runs at least 3 and at most RUNS times per file (default 10), stopping early once SECONDS
 * (default 20) have been spent on that file. Exit status 1 when a module is rejected. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "k23vm.h"

int main(int argc, char **argv)
{
    int runs = 10;
    double budget = 20;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            budget = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: decode_bench [-n RUNS] [-t SECONDS] FILE...\n");
            return 2;
        }
    }
    if (i == argc || runs < 1) {
        fprintf(stderr, "usage: decode_bench [-n RUNS] [-t SECONDS] FILE...\n");
        return 2;
    }

    k23vm_engine *engine = NULL;
    k23vm_error *err = k23vm_engine_new(NULL, &engine);
    if (err) {
        fprintf(stderr, "decode_bench: engine: %s\n", k23vm_error_message(err));
        return 1;
    }

    int status = 0;
    printf("%-40s %12s %6s %12s %12s %10s\n", "module", "bytes", "runs", "best MB/s", "median MB/s",
           "best ms");
    for (; i < argc; i++) {
        const char *path = argv[i], *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t size;
        uint8_t *bytes = bench_read_file("decode_bench", path, &size);
        if (!bytes) {
            status = 1;
            continue;
        }
        double *t = calloc((size_t)runs, sizeof *t);
        int done = 0;
        double start = bench_now();
        while (done < runs && (done < 3 || bench_now() - start < budget)) {
            k23vm_module *m = NULL;
            double t0 = bench_now();
            err = k23vm_module_new(engine, bytes, size, &m);
            k23vm_module_delete(m);
            t[done++] = bench_now() - t0;
            if (err) break;
        }
        if (err) {
            size_t off = k23vm_error_offset(err);
            printf("%-40s %12zu  rejected at offset %zd: %s\n", base, size,
                   off == SIZE_MAX ? (ssize_t)-1 : (ssize_t)off, k23vm_error_message(err));
            k23vm_error_delete(err);
            status = 1;
        } else {
            qsort(t, (size_t)done, sizeof *t, bench_cmp_double);
            double best = t[0], median = t[done / 2];
            printf("%-40s %12zu %6d %12.1f %12.1f %10.3f\n", base, size, done, (double)size / best / 1e6,
                   (double)size / median / 1e6, best * 1e3);
        }
        free(t);
        free(bytes);
    }
    k23vm_engine_delete(engine);
    return status;
}
