/* posix.c - the hosted platform (include/k23vm/platform.h) for Linux and other POSIX systems.
 * The only file of the library that calls the operating system. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "k23vm/platform.h"

static void *px_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}

static void *px_realloc(void *ctx, void *p, size_t old, size_t n)
{
    (void)ctx, (void)old;
    return realloc(p, n);
}

static void px_free(void *ctx, void *p, size_t n)
{
    (void)ctx, (void)n;
    free(p);
}

static int px_prot(int prot)
{
    return (prot & K23VM_PROT_READ ? PROT_READ : 0) | (prot & K23VM_PROT_WRITE ? PROT_WRITE : 0) |
           (prot & K23VM_PROT_EXEC ? PROT_EXEC : 0);
}

static void *px_reserve(void *ctx, size_t size)
{
    (void)ctx;
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static bool px_commit(void *ctx, void *addr, size_t size, int prot)
{
    (void)ctx;
    return mprotect(addr, size, px_prot(prot)) == 0;
}

static bool px_decommit(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    void *p = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return p != MAP_FAILED;
}

static bool px_protect(void *ctx, void *addr, size_t size, int prot)
{
    (void)ctx;
    return mprotect(addr, size, px_prot(prot)) == 0;
}

static void px_release(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    munmap(addr, size);
}

static bool px_make_executable(void *ctx, void *addr, size_t size)
{
    (void)ctx;
    if (mprotect(addr, size, PROT_READ | PROT_EXEC) != 0) return false;
    __builtin___clear_cache((char *)addr, (char *)addr + size);
    return true;
}

static uint64_t px_monotonic_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void px_log(void *ctx, k23vm_log_level level, const char *msg)
{
    (void)ctx;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    fprintf(stderr, "k23vm %s: %s\n", names[level & 3], msg);
}

static k23vm_platform posix_platform = {
    .ctx = NULL,
    .alloc = px_alloc,
    .realloc = px_realloc,
    .free = px_free,
    .reserve = px_reserve,
    .commit = px_commit,
    .decommit = px_decommit,
    .protect = px_protect,
    .release = px_release,
    .make_executable = px_make_executable,
    .monotonic_ns = px_monotonic_ns,
    .log = px_log,
};

const k23vm_platform *k23vm_platform_default(void)
{
    if (!posix_platform.page_size) posix_platform.page_size = (size_t)sysconf(_SC_PAGESIZE);
    return &posix_platform;
}
