/* embed.h - the spec-test runner's bridge to the k23vm embedding API: everything the runner asks
 * of the VM goes through these functions, and nothing else in spec-tests/ includes k23vm.h for
 * more than its types.
 *
 * embed.c implements them with the store/instance API: a store per script with the spectest host
 * module, instantiation through a linker, calls, globals and registration (its header comment has
 * the details). EMBED_UNSUPPORTED remains for a VM that cannot execute (the runner counts such
 * commands as skipped, never passed); the runner's command logic, value comparison and counting
 * handle every outcome below. */
#ifndef K23_SPEC_EMBED_H
#define K23_SPEC_EMBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k23vm.h"
#include "values.h"

typedef struct embed embed;
typedef struct embed_module embed_module;

typedef enum embed_status {
    EMBED_OK,
    EMBED_UNSUPPORTED, /* the VM cannot do this yet: the command is skipped, never passed */
    EMBED_ERROR,       /* a k23vm_error: error_kind and message say which and why */
    EMBED_TRAP,        /* a call (or a start function) trapped: message */
    EMBED_EXHAUSTED,   /* the call trapped because the wasm call stack was exhausted */
} embed_status;

/* What went wrong, when the status is not EMBED_OK. */
typedef struct embed_outcome {
    embed_status status;
    k23vm_error_kind error_kind; /* EMBED_ERROR only */
    char message[512];
} embed_outcome;

/* Most results a function can return as far as the runner is concerned; a call returning more
 * fails its command rather than overflowing. */
enum { EMBED_MAX_RESULTS = 64 };

/* One engine per run. Returns NULL and writes err when the engine cannot be had (e.g. a mode
 * not built in). */
embed *embed_new(k23vm_exec_mode mode, k23vm_bounds_mode bounds, char *err, size_t errlen);
void embed_delete(embed *e);

/* Whether instantiate/invoke/get/register can do anything (true since the VM has a store). */
bool embed_can_execute(const embed *e);

/* Decodes and validates bytes into a module (k23vm_module_new). On failure *out is NULL and o
 * holds the error kind and message. */
embed_status embed_load(embed *e, const uint8_t *bytes, size_t len, embed_module **out, embed_outcome *o);
void embed_module_delete(embed_module *m);

/* Instantiates m against the spectest host module and the registered instances. A link error is
 * EMBED_ERROR with K23VM_ERROR_UNLINKABLE; a trap in the start function or a segment out of
 * bounds is EMBED_ERROR with K23VM_ERROR_UNINSTANTIABLE. */
embed_status embed_instantiate(embed *e, embed_module *m, embed_outcome *o);

/* Calls m's exported function `name` (not NUL-terminated, may contain NUL). results has room
 * for EMBED_MAX_RESULTS values; on EMBED_OK the results are in results[0 .. *nresults). */
embed_status embed_invoke(embed *e, embed_module *m, const char *name, size_t name_len, const spec_val *args,
                          size_t nargs, spec_val *results, size_t *nresults, embed_outcome *o);

/* Reads m's exported global `name`. */
embed_status embed_get(embed *e, embed_module *m, const char *name, size_t name_len, spec_val *out,
                       embed_outcome *o);

/* Makes m's instance importable under module name `as`. */
embed_status embed_register(embed *e, embed_module *m, const char *as, size_t as_len, embed_outcome *o);

/* Forgets everything registered and every instance: each script starts afresh. */
void embed_reset(embed *e);

#endif
