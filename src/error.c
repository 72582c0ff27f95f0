/* error.c - k23vm_error values (see error.h and k23vm.h). */
#include "error.h"

#include "fmt.h"
#include "util.h"

struct k23vm_error {
    const k23vm_platform *plat; /* NULL for the static out-of-memory error */
    k23vm_error_kind kind;
    size_t offset;
    size_t size;
    char msg[];
};

static k23vm_error oom_error = {NULL, K23VM_ERROR_RESOURCE, K23VM_NO_OFFSET, 0};

k23vm_error *err_oom(void) { return &oom_error; }

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
        return &oom_error;
    }
    e->plat = plat;
    e->kind = kind;
    e->offset = offset;
    e->size = size;
    fmt_v(e->msg, len + 1, f, ap);
    va_end(ap);
    return e;
}

k23vm_error_kind k23vm_error_kind_of(const k23vm_error *e) { return e->kind; }

const char *k23vm_error_message(const k23vm_error *e) { return e->plat ? e->msg : "out of memory"; }

size_t k23vm_error_offset(const k23vm_error *e) { return e->offset; }

void k23vm_error_delete(k23vm_error *e)
{
    if (e && e->plat) mem_free(e->plat, e, e->size);
}
