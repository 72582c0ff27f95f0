/* demo.c - the example guest program of `make demo`: a small C program compiled to wasm32-wasi
 * with clang and Debian's wasi-libc (examples/CMakeLists.txt), so the module the demo inspects is a
 * real toolchain's output: WASI imports from libc, one host import of our own (env.host_log),
 * exported functions, memory, a table and data segments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Provided by the embedder. */
__attribute__((import_module("env"), import_name("host_log"))) void host_log(const char *msg, uint32_t len);

static void log_str(const char *s) { host_log(s, (uint32_t)strlen(s)); }

__attribute__((export_name("fib"))) uint64_t fib(uint32_t n)
{
    uint64_t a = 0, b = 1;
    while (n--) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

__attribute__((export_name("isqrt"))) uint32_t isqrt(uint32_t x)
{
    uint32_t r = 0;
    for (uint32_t bit = 1u << 30; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

__attribute__((export_name("mean"))) double mean(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n ? s / n : 0.0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Through a function pointer, so the module gets a table and call_indirect. */
__attribute__((export_name("sort_ints"))) void sort_ints(int *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_int);
}

int main(int argc, char **argv)
{
    int primes[] = {13, 2, 7, 11, 3, 5};
    sort_ints(primes, 6);
    char buf[128];
    int len = snprintf(buf, sizeof buf, "fib(50) = %llu, isqrt(1000000) = %u, smallest prime %d",
                       (unsigned long long)fib(50), isqrt(1000000), primes[0]);
    printf("%s\n", buf);
    log_str(len > 0 ? "demo done" : "demo failed");
    return argc > 1 && !strcmp(argv[1], "--fail");
}
