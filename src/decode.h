/* decode.h - the binary format (spec 5): bytes to a k23vm_module, sections and all, with the
 * spec's errors for malformed input. Function bodies are split off as byte ranges with their local
 * declarations decoded; their instructions are read later, by validation (validate.h). */
#ifndef K23VM_DECODE_H
#define K23VM_DECODE_H

#include "module.h"

/* Decodes m->bytes[0, m->size) into m (whose engine, plat, arena, bytes and size are set). Returns
 * NULL, or a K23VM_ERROR_MALFORMED error with the offset. */
k23vm_error *decode_module(k23vm_module *m);

#endif
