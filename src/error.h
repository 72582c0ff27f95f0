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

/* Static errors, for failures found before there is a platform to allocate from. */
typedef enum err_static_id {
    ERR_STATIC_OOM,          /* RESOURCE "out of memory" (= err_oom()) */
    ERR_STATIC_NULL_ARG,     /* ARGUMENT "null argument" */
    ERR_STATIC_NO_PLATFORM,  /* ARGUMENT: no platform given and no hosted default linked in */
    ERR_STATIC_BAD_PLATFORM, /* ARGUMENT: the platform lacks a required hook */
    ERR_STATIC_COUNT_
} err_static_id;
k23vm_error *err_static(err_static_id id);

#endif
