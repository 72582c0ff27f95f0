/* fmt.h - a small printf for messages, since the freestanding core has no libc.
 * Conversions: %s %c %d %u %x %% with the length modifiers l, ll, z; "%.*s" for counted strings. */
#ifndef K23VM_FMT_H
#define K23VM_FMT_H

#include <stdarg.h>
#include <stddef.h>

#include "config.h"

/* Writes at most cap-1 characters and a NUL (when cap > 0); returns the full length wanted. */
size_t fmt_v(char *buf, size_t cap, const char *fmt, va_list ap);
size_t fmt(char *buf, size_t cap, const char *fmt, ...) K23VM_PRINTF(3, 4);

#endif
