/* error.h - making k23vm_error values. Errors are values (STYLE.md rule 9): every failing path
 * returns one of these, built at the point of failure with the spec's wording first. */
#ifndef K23VM_ERROR_H
#define K23VM_ERROR_H

#include "k23vm.h"
#include "config.h"

#define K23VM_NO_OFFSET ((size_t)-1)

/* Builds an error whose message is printf-formatted (fmt.h). Never returns NULL: when memory for
 * the error itself cannot be had, a static "out of memory" error is returned, which
 * k23vm_error_delete recognises. */
k23vm_error *err_new(const k23vm_platform *plat, k23vm_error_kind kind, size_t offset, const char *fmt, ...)
    K23VM_PRINTF(4, 5) K23VM_COLD;
k23vm_error *err_oom(void);

#endif
