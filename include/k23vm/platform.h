/* k23vm/platform.h - the hooks through which the k23vm core reaches its host.
 *
 * The core library calls nothing of the operating system: every allocation, every page mapping and
 * every clock read goes through one of these function pointers. A hosted build provides
 * k23vm_platform_default() (src/platform/posix.c); a kernel fills the struct with its own hooks.
 * Hooks that a platform cannot provide are NULL; the core then falls back where it can (explicit
 * bounds checks instead of guard pages, no JIT without make_executable) and otherwise reports an
 * error value.
 */
#ifndef K23VM_PLATFORM_H
#define K23VM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Page protections for reserve/commit/protect. */
enum {
    K23VM_PROT_NONE = 0,
    K23VM_PROT_READ = 1,
    K23VM_PROT_WRITE = 2,
    K23VM_PROT_EXEC = 4,
};

typedef enum k23vm_log_level {
    K23VM_LOG_DEBUG = 0,
    K23VM_LOG_INFO,
    K23VM_LOG_WARN,
    K23VM_LOG_ERROR,
} k23vm_log_level;

typedef struct k23vm_platform {
    /* Passed back to every hook. */
    void *ctx;

    /* General-purpose allocation. alloc returns memory aligned to at least 16 bytes, or NULL.
     * realloc and free receive the size the block was allocated with. Required. */
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);

    /* Virtual memory, in multiples of page_size. Optional: NULL when the platform has none. */
    size_t page_size;
    void *(*reserve)(void *ctx, size_t size);                       /* no access; NULL on failure */
    bool (*commit)(void *ctx, void *addr, size_t size, int prot);   /* make accessible */
    bool (*decommit)(void *ctx, void *addr, size_t size);           /* drop contents, no access */
    bool (*protect)(void *ctx, void *addr, size_t size, int prot);
    void (*release)(void *ctx, void *addr, size_t size);
    /* After writing code: publish [addr, addr+size) read+execute (W^X) and flush the icache. */
    bool (*make_executable)(void *ctx, void *addr, size_t size);

    /* Monotonic clock in nanoseconds. Optional. */
    uint64_t (*monotonic_ns)(void *ctx);
    /* Diagnostics. Optional. */
    void (*log)(void *ctx, k23vm_log_level level, const char *msg);

    /* Guard-page bounds (K23VM_BOUNDS_GUARD) need thread_slot: without it a store in such an
     * engine cannot be made (choose K23VM_BOUNDS_EXPLICIT). Both are optional otherwise.
     * thread_slot: the address of a pointer-sized variable private to the calling thread (thread-
     * or CPU-local while wasm runs), NULL until the core sets it. The core keeps the thread's
     * innermost running wasm activation there; the fault handler hands its value to
     * k23vm_handle_fault (k23vm.h).
     * fault_init: makes sure memory faults of wasm code reach k23vm_handle_fault; the hosted build
     * installs its SIGSEGV/SIGBUS handlers once. Called whenever a store is made in a guard-page
     * engine, so it must be cheap after the first time. NULL when faults are forwarded anyway
     * (a kernel's page fault handler). */
    void **(*thread_slot)(void *ctx);
    bool (*fault_init)(void *ctx);
} k23vm_platform;

/* The hosted default (POSIX). Not present in freestanding builds. */
const k23vm_platform *k23vm_platform_default(void);

#ifdef __cplusplus
}
#endif
#endif /* K23VM_PLATFORM_H */
