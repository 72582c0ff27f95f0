/* error.c - k23vm_error values (see error.h and k23vm.h). */
#include "error.h"

#include "fmt.h"
#include "util.h"

/* An error keeps the free hook it needs rather than a pointer to the platform, so that it may
 * outlive the engine (or the caller's platform struct) it was made with. */
struct k23vm_error {
    void (*free)(void *ctx, void *ptr, size_t size); /* NULL for the static errors below */
    void *ctx;
    k23vm_error_kind kind;
    size_t offset;
    size_t size;
    const char *text; /* msg, or a literal for a static error */
    char msg[];
};

/* Errors that need no memory: running out of it, and argument errors found before there is a
 * platform to allocate from. Indexed by enum err_static_id (error.h). */
static k23vm_error static_errors[] = {
    [ERR_STATIC_OOM] = {NULL, NULL, K23VM_ERROR_RESOURCE, K23VM_NO_OFFSET, 0, "out of memory"},
    [ERR_STATIC_NULL_ARG] = {NULL, NULL, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, 0, "null argument"},
    [ERR_STATIC_NO_PLATFORM] = {NULL, NULL, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, 0,
                                "no platform: a freestanding build must pass k23vm_engine_config.platform"},
    [ERR_STATIC_BAD_PLATFORM] = {NULL, NULL, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, 0,
                                 "platform lacks alloc, realloc or free"},
};
_Static_assert(sizeof static_errors / sizeof static_errors[0] == ERR_STATIC_COUNT_, "static_errors");

k23vm_error *err_oom(void) { return &static_errors[ERR_STATIC_OOM]; }

k23vm_error *err_static(err_static_id id)
{
    return &static_errors[id < ERR_STATIC_COUNT_ ? id : ERR_STATIC_OOM];
}

k23vm_error *err_new(const k23vm_platform *plat, k23vm_error_kind kind, size_t offset, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char tmp[1];
    va_list ap2;
    va_copy(ap2, ap);
    size_t len = fmt_v(tmp, sizeof tmp, f, ap2);
    va_end(ap2);
    if (len > 4096) len = 4096;
    size_t size = sizeof(k23vm_error) + len + 1;
    k23vm_error *e = plat ? mem_alloc(plat, size) : NULL;
    if (!e) {
        va_end(ap);
        return err_oom();
    }
    e->free = plat->free;
    e->ctx = plat->ctx;
    e->text = e->msg;
    e->kind = kind;
    e->offset = offset;
    e->size = size;
    fmt_v(e->msg, len + 1, f, ap);
    va_end(ap);
    return e;
}

k23vm_error_kind k23vm_error_kind_of(const k23vm_error *e) { return e->kind; }

const char *k23vm_error_message(const k23vm_error *e) { return e->text; }

size_t k23vm_error_offset(const k23vm_error *e) { return e->offset; }

void k23vm_error_delete(k23vm_error *e)
{
    if (e && e->free) e->free(e->ctx, e, e->size);
}
