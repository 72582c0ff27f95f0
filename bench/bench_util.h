/* bench_util.h - what the hosted benchmark drivers (decode_bench, micro_bench) share: the clock
 * they time with, reading a module file, and sorting run times. Header-only (static functions):
 * each driver is one file and one program. Needs _GNU_SOURCE or _POSIX_C_SOURCE for
 * clock_gettime, defined by the includer before any system header. */
#ifndef K23VM_BENCH_UTIL_H
#define K23VM_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort comparator for run times. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The whole file at path, malloc'ed, its length in *size; NULL after a message on stderr that
 * starts with prog. */
static inline uint8_t *bench_read_file(const char *prog, const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) fprintf(stderr, "%s: %s: out of memory\n", prog, path);
    *size = len;
    return buf;
}

#endif
