/* k23vm.h - the public embedding API of the k23vm WebAssembly virtual machine.
 *
 * Ownership rules, which hold for every type below:
 *  - An object returned by a `_new` function is owned by the caller and freed with the matching
 *    `_delete`. Deleting NULL is a no-op.
 *  - A `k23vm_module` keeps its own copy of the bytes it was made from; the caller's buffer may be
 *    freed as soon as `k23vm_module_new` returns. A module must not outlive its engine.
 *  - Pointers handed out by query functions (names, type vectors) point into the object queried and
 *    stay valid exactly as long as that object.
 *  - Errors are values: a function that can fail returns a `k23vm_error *` (NULL on success) which
 *    the caller owns and frees with `k23vm_error_delete`. The library never aborts or exits on bad
 *    input.
 *
 * Thread safety: an engine and a module may be used from several threads at once; everything else
 * (stores, from a later revision) is used by one thread at a time.
 */
#ifndef K23VM_H
#define K23VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k23vm/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

#define K23VM_VERSION_MAJOR 0
#define K23VM_VERSION_MINOR 1
#define K23VM_VERSION_PATCH 0
#define K23VM_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/* Which stage rejected the input. MALFORMED and INVALID follow the spec's split between the binary
 * format (5) and validation (3); UNLINKABLE and UNINSTANTIABLE are the two ways instantiation
 * fails (4.5.4). */
typedef enum k23vm_error_kind {
    K23VM_ERROR_MALFORMED = 1,  /* not a well-formed binary module */
    K23VM_ERROR_INVALID,        /* well-formed, but fails validation */
    K23VM_ERROR_UNLINKABLE,     /* imports do not match */
    K23VM_ERROR_UNINSTANTIABLE, /* a trap while initialising an instance */
    K23VM_ERROR_RESOURCE,       /* out of memory or over a configured limit */
    K23VM_ERROR_ARGUMENT,       /* the embedder passed something wrong (NULL, wrong type, ...) */
} k23vm_error_kind;

typedef struct k23vm_error k23vm_error;

/* The stage that failed. */
k23vm_error_kind k23vm_error_kind_of(const k23vm_error *err);
/* A message in the spec's vocabulary ("unexpected end", "type mismatch", ...), possibly followed by
 * ": " and detail. Never NULL; valid until the error is deleted. */
const char *k23vm_error_message(const k23vm_error *err);
/* Byte offset in the module where the problem was found, or SIZE_MAX when there is none. */
size_t k23vm_error_offset(const k23vm_error *err);
void k23vm_error_delete(k23vm_error *err);

/* ---------------------------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------------------------- */

/* Value types, numbered by their binary encoding (5.3.1, 5.3.3) so that no table translates them. */
typedef enum k23vm_valkind {
    K23VM_I32 = 0x7F,
    K23VM_I64 = 0x7E,
    K23VM_F32 = 0x7D,
    K23VM_F64 = 0x7C,
    K23VM_V128 = 0x7B,
    K23VM_FUNCREF = 0x70,
    K23VM_EXTERNREF = 0x6F,
} k23vm_valkind;

/* External kinds, numbered by their encoding in import and export descriptors (5.5.5). */
typedef enum k23vm_externkind {
    K23VM_EXTERN_FUNC = 0,
    K23VM_EXTERN_TABLE = 1,
    K23VM_EXTERN_MEMORY = 2,
    K23VM_EXTERN_GLOBAL = 3,
} k23vm_externkind;

/* Not NUL-terminated: names are UTF-8 and may contain NUL. */
typedef struct k23vm_name {
    const char *ptr;
    size_t len;
} k23vm_name;

typedef struct k23vm_limits {
    uint64_t min;
    uint64_t max; /* meaningful only when has_max */
    bool has_max;
} k23vm_limits;

typedef struct k23vm_functype {
    size_t nparams, nresults;
    const k23vm_valkind *params;  /* nparams entries */
    const k23vm_valkind *results; /* nresults entries */
} k23vm_functype;

typedef struct k23vm_externtype {
    k23vm_externkind kind;
    union {
        k23vm_functype func;
        struct {
            k23vm_valkind elem;
            k23vm_limits limits;
        } table;
        struct {
            k23vm_limits limits; /* in 64 KiB pages */
        } memory;
        struct {
            k23vm_valkind type;
            bool is_mutable;
        } global;
    } u;
} k23vm_externtype;

typedef struct k23vm_import {
    k23vm_name module;
    k23vm_name name;
    k23vm_externtype type;
} k23vm_import;

typedef struct k23vm_export {
    k23vm_name name;
    k23vm_externtype type;
} k23vm_export;

/* Text name of a value type ("i32", "funcref", ...) or "?" for a value that is none. */
const char *k23vm_valkind_name(k23vm_valkind kind);

/* ---------------------------------------------------------------------------------------------
 * Engine
 * ------------------------------------------------------------------------------------------- */

typedef enum k23vm_exec_mode {
    K23VM_MODE_INTERP = 0,
    K23VM_MODE_JIT,
    K23VM_MODE_TIERED,
} k23vm_exec_mode;

typedef enum k23vm_bounds_mode {
    K23VM_BOUNDS_DEFAULT = 0, /* guard pages where the platform has virtual memory, else explicit */
    K23VM_BOUNDS_GUARD,
    K23VM_BOUNDS_EXPLICIT,
} k23vm_bounds_mode;

typedef struct k23vm_engine_config {
    /* Platform hooks. NULL selects the hosted default (k23vm_platform_default()), which exists
     * only in hosted builds; a freestanding embedder must pass its own. Copied by the engine. */
    const k23vm_platform *platform;
    k23vm_exec_mode mode;
    k23vm_bounds_mode bounds;
} k23vm_engine_config;

typedef struct k23vm_engine k23vm_engine;

/* How a NULL platform finds the hosted default without the freestanding core referring to it:
 * the core defines this pointer weakly as NULL, and every hosted translation unit that includes
 * this header defines it weakly as k23vm_platform_default, so the program's definition wins and
 * pulls the POSIX platform out of libk23vm.a (see src/engine.c). Define K23VM_NO_DEFAULT_PLATFORM
 * before including this header to keep the POSIX platform out of a hosted program. */
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ && !defined(K23VM_NO_DEFAULT_PLATFORM) && \
    (defined(__GNUC__) || defined(__clang__))
__attribute__((weak, visibility("default"))) const k23vm_platform *(*k23vm_default_platform_hook)(void) =
    k23vm_platform_default;
#endif

/* Fills *cfg with the defaults. */
void k23vm_engine_config_init(k23vm_engine_config *cfg);
/* cfg may be NULL for the defaults. Returns an error (and *out = NULL) when the configuration
 * cannot be served, e.g. no platform in a freestanding build or a mode not built in. */
k23vm_error *k23vm_engine_new(const k23vm_engine_config *cfg, k23vm_engine **out);
void k23vm_engine_delete(k23vm_engine *engine);

/* ---------------------------------------------------------------------------------------------
 * Modules
 * ------------------------------------------------------------------------------------------- */

typedef struct k23vm_module k23vm_module;

/* Decodes and validates a binary module. On success *out holds the module; on failure *out is
 * NULL and the error says whether the bytes were malformed or invalid, where, and why. */
k23vm_error *k23vm_module_new(k23vm_engine *engine, const uint8_t *bytes, size_t len,
                              k23vm_module **out);
void k23vm_module_delete(k23vm_module *module);

/* Checks bytes without keeping a module. */
k23vm_error *k23vm_module_validate(k23vm_engine *engine, const uint8_t *bytes, size_t len);

size_t k23vm_module_import_count(const k23vm_module *module);
/* Describes import i; returns false when i is out of range. */
bool k23vm_module_import(const k23vm_module *module, size_t i, k23vm_import *out);
size_t k23vm_module_export_count(const k23vm_module *module);
bool k23vm_module_export(const k23vm_module *module, size_t i, k23vm_export *out);

/* The name section's name for function index funcidx (imports first), if there is one. */
bool k23vm_module_func_name(const k23vm_module *module, uint32_t funcidx, k23vm_name *out);

#ifdef __cplusplus
}
#endif
#endif /* K23VM_H */
