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
 * Thread safety: an engine and a module may be used from several threads at once; a store and
 * everything in it is used by one thread at a time (k23vm_store_interrupt excepted), and a linker
 * likewise.
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

/* How the stores of an engine get instances, memories and tables (ARCHITECTURE.md 6). */
typedef enum k23vm_allocator_kind {
    /* Each object allocated when made and freed with its store: heap blocks, and for memories an
     * address-space reservation (guard mode: 8 GiB + guard; explicit mode: the memory's maximum,
     * or a heap block that moves on grow when the platform has no virtual memory hooks). */
    K23VM_ALLOCATOR_PLAIN = 0,
    /* Slots reserved once when the engine is made and reused by every store of the engine:
     * instantiation costs no mapping beyond committing a memory's initial pages. Needs the
     * platform's virtual memory hooks. Running out of slots is a K23VM_ERROR_RESOURCE error. */
    K23VM_ALLOCATOR_POOLING,
} k23vm_allocator_kind;

/* Sizes of the pooling allocator; a field left 0 takes the default in brackets. */
typedef struct k23vm_pool_config {
    uint32_t instances;      /* instance slots [100] */
    uint32_t memories;       /* memory slots [100]; guard mode reserves 8 GiB + guard for each */
    uint32_t tables;         /* table slots [100] */
    size_t instance_bytes;   /* bytes per instance slot: the instance, its functions, globals and
                              * segment references [1 MiB of address space, committed on use] */
    uint64_t memory_pages;   /* most pages of one memory [65536] */
    uint32_t table_elements; /* most elements of one table [65536] */
    size_t keep_resident;    /* bytes at the start of a memory slot kept committed (and cleared)
                              * between users, so that re-instantiating needs no system call;
                              * (size_t)-1 for none [65536] */
} k23vm_pool_config;

typedef struct k23vm_engine_config {
    /* Platform hooks. NULL selects the hosted default (k23vm_platform_default()), which exists
     * only in hosted builds; a freestanding embedder must pass its own. Copied by the engine. */
    const k23vm_platform *platform;
    k23vm_exec_mode mode;
    k23vm_bounds_mode bounds;
    k23vm_allocator_kind allocator;
    k23vm_pool_config pool; /* K23VM_ALLOCATOR_POOLING only */
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

/* ---------------------------------------------------------------------------------------------
 * Runtime objects (spec 4.2). A store owns every runtime object created in it: instances, funcs,
 * memories, tables, globals and host data. They stay valid until k23vm_store_delete, which frees
 * them all at once; there is no per-object delete. A store is used by one thread at a time, except
 * k23vm_store_interrupt, which any thread (or an interrupt handler) may call. Objects of one store
 * never mix with another's: passing one to a function of another store is a K23VM_ERROR_ARGUMENT
 * error. A module must outlive every instance made from it (that is, the stores holding them),
 * and a store must not outlive its engine.
 * ------------------------------------------------------------------------------------------- */

typedef struct k23vm_store k23vm_store;
typedef struct k23vm_instance k23vm_instance;
typedef struct k23vm_func k23vm_func;
typedef struct k23vm_memory k23vm_memory;
typedef struct k23vm_table k23vm_table;
typedef struct k23vm_global k23vm_global;
typedef struct k23vm_trap k23vm_trap;
typedef struct k23vm_caller k23vm_caller;
typedef struct k23vm_linker k23vm_linker;

/* A value. Reference values: funcref is a k23vm_func* (NULL for ref.null func); externref is an
 * opaque host pointer (NULL for ref.null extern); the VM never dereferences it. */
typedef struct k23vm_val {
    k23vm_valkind kind;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t v128[16]; /* little-endian lane order */
        k23vm_func *funcref;
        void *externref;
    } of;
} k23vm_val;

typedef struct k23vm_extern {
    k23vm_externkind kind;
    union {
        k23vm_func *func;
        k23vm_table *table;
        k23vm_memory *memory;
        k23vm_global *global;
    } of;
} k23vm_extern;

/* ---- traps ----------------------------------------------------------------------------------
 * A trap is owned by whoever receives it (an out-parameter or a host function's return value)
 * and freed with k23vm_trap_delete. It may outlive its store but not its engine; the names in
 * its frames point into the modules and are valid while those are. */

typedef enum k23vm_trap_code {
    K23VM_TRAP_UNREACHABLE = 1,       /* "unreachable" */
    K23VM_TRAP_MEMORY_OUT_OF_BOUNDS,  /* "out of bounds memory access" */
    K23VM_TRAP_TABLE_OUT_OF_BOUNDS,   /* "out of bounds table access" */
    K23VM_TRAP_UNDEFINED_ELEMENT,     /* "undefined element": call_indirect index past the table */
    K23VM_TRAP_UNINITIALIZED_ELEMENT, /* "uninitialized element": call_indirect through null */
    K23VM_TRAP_INDIRECT_CALL_TYPE,    /* "indirect call type mismatch" */
    K23VM_TRAP_INTEGER_OVERFLOW,      /* "integer overflow" */
    K23VM_TRAP_INTEGER_DIVIDE_BY_ZERO,/* "integer divide by zero" */
    K23VM_TRAP_INVALID_CONVERSION,    /* "invalid conversion to integer" */
    K23VM_TRAP_STACK_EXHAUSTED,       /* "call stack exhausted" */
    K23VM_TRAP_OUT_OF_FUEL,           /* "all fuel consumed" */
    K23VM_TRAP_INTERRUPTED,           /* "interrupted" */
    K23VM_TRAP_HOST,                  /* raised by a host function */
    K23VM_TRAP_RESOURCE,              /* the VM ran out of memory while running */
} k23vm_trap_code;

typedef struct k23vm_frame {
    uint32_t funcidx;     /* in its module's function index space */
    k23vm_name func_name; /* from the name section; len 0 when unnamed */
    k23vm_name module_name; /* the name section's module name; len 0 when none */
    size_t module_offset; /* byte offset of the instruction in the module, or SIZE_MAX */
} k23vm_frame;

/* What kind of trap (K23VM_TRAP_RESOURCE for NULL). */
k23vm_trap_code k23vm_trap_code_of(const k23vm_trap *trap);
/* The spec's message for the code ("out of bounds memory access"), or a host function's own
 * message. Never NULL; valid until the trap is deleted. */
const char *k23vm_trap_message(const k23vm_trap *trap);
/* The wasm frames active when the trap happened, innermost first; at most the 4096 innermost. */
size_t k23vm_trap_frame_count(const k23vm_trap *trap);
/* Frame i (0 = innermost); false when i is out of range. The names point into the modules. */
bool k23vm_trap_frame(const k23vm_trap *trap, size_t i, k23vm_frame *out);
/* Frees a trap the caller owns; NULL is a no-op. */
void k23vm_trap_delete(k23vm_trap *trap);
/* For host functions: a trap with code K23VM_TRAP_HOST and this message (copied). Never NULL:
 * without memory for it, it is a static trap of that code with the message "host trap", which
 * k23vm_trap_delete recognises. */
k23vm_trap *k23vm_trap_new(k23vm_store *store, const char *message);

/* ---- stores ---------------------------------------------------------------------------------- */

typedef struct k23vm_store_config {
    uint64_t max_memory_pages;   /* per memory; 0: no cap beyond the type's (65536 pages) */
    uint32_t max_table_elements; /* per table; 0: no cap beyond the type's and 10,000,000 */
    size_t max_stack_bytes;      /* the VM stack for wasm frames and operands; 0: 1 MiB. Deeper
                                  * recursion traps with K23VM_TRAP_STACK_EXHAUSTED. */
    uint32_t max_reentry;        /* nested host -> wasm calls on the C stack; 0: 64. A deeper call
                                  * traps with K23VM_TRAP_STACK_EXHAUSTED. */
    bool fuel;                   /* meter execution; starts with 0 fuel, see k23vm_store_set_fuel */
} k23vm_store_config;

/* Fills *cfg with the defaults (all zero: the defaults named above, no fuel). */
void k23vm_store_config_init(k23vm_store_config *cfg);
/* cfg may be NULL for the defaults. In a guard-page engine this also makes sure memory faults
 * reach k23vm_handle_fault (the platform's fault_init hook). */
k23vm_error *k23vm_store_new(k23vm_engine *engine, const k23vm_store_config *cfg, k23vm_store **out);
/* Frees the store and every object created in it, after calling the finalizers of its host
 * functions and host data. Must not be called while the store runs code. */
void k23vm_store_delete(k23vm_store *store);
/* The engine the store was made in. */
k23vm_engine *k23vm_store_engine(const k23vm_store *store);
/* One pointer of the embedder's, with a finalizer (may be NULL) called by k23vm_store_delete or
 * when the data is replaced. */
void k23vm_store_set_data(k23vm_store *store, void *data, void (*finalizer)(void *data));
void *k23vm_store_data(const k23vm_store *store);
/* Fuel: a deterministic budget; running code that spends it all traps with K23VM_TRAP_OUT_OF_FUEL.
 * Setting it again refuels. Errors when the store was made without fuel. */
k23vm_error *k23vm_store_set_fuel(k23vm_store *store, uint64_t fuel);
/* Fuel left (0 without fuel metering). */
uint64_t k23vm_store_get_fuel(const k23vm_store *store);
/* Asks running code in this store to stop with K23VM_TRAP_INTERRUPTED at its next check (loop
 * back-edge or call). Safe from any thread and from a signal handler. The request stays until
 * the trap has been delivered: a call made after the request traps at once. */
void k23vm_store_interrupt(k23vm_store *store);

/* ---- functions -------------------------------------------------------------------------------- */

/* The raw host function convention. args_results holds max(nargs, nresults) values: the
 * arguments on entry (with their kinds set), the results on return, which overwrite the
 * arguments from the first and must carry the kinds of the function's result types. Returning
 * non-NULL traps (the VM takes ownership of the trap); results are then ignored. caller is valid
 * only during the call. */
typedef k23vm_trap *(*k23vm_host_callback)(void *env, k23vm_caller *caller, k23vm_val *args_results,
                                           size_t nargs, size_t nresults);

/* A host function of the given type (copied). env is passed to every call; finalizer (may be NULL)
 * is called with env when the store is deleted. On error the finalizer is not called. */
k23vm_error *k23vm_func_new(k23vm_store *store, const k23vm_functype *type, k23vm_host_callback callback,
                            void *env, void (*finalizer)(void *env), k23vm_func **out);

/* The typed convenience: args and results in separate arrays, the results' kinds preset. */
typedef k23vm_trap *(*k23vm_typed_callback)(void *env, k23vm_caller *caller, const k23vm_val *args,
                                            k23vm_val *results);
/* A host function whose type is spelled as a signature string: parameter letters, '>' (may be
 * left out when there are no results), result letters. Letters: i i32, I i64, f f32, F f64,
 * V v128, r funcref, x externref. E.g. "iI>f" is (i32, i64) -> f32, "" is () -> (). A malformed
 * signature is a K23VM_ERROR_ARGUMENT error. */
k23vm_error *k23vm_func_new_typed(k23vm_store *store, const char *signature, k23vm_typed_callback callback,
                                  void *env, void (*finalizer)(void *env), k23vm_func **out);

/* Hosted builds with libffi only (then CMake defines K23VM_HAVE_FFI for programs linking k23vm):
 * a host function that calls the plain C function fn, whose C type the signature spells with
 * k23vm_func_new_typed's letters, at most one result and no V: i int32_t, I int64_t, f float,
 * F double, r k23vm_func *, x void *, no result void. A leading '@' passes the k23vm_caller * as
 * the first C argument, e.g. "@ii>i" is int32_t fn(k23vm_caller *, int32_t, int32_t). At most 64
 * parameters. The C function cannot trap (use k23vm_func_new for that). Errors:
 * K23VM_ERROR_ARGUMENT for a signature it cannot bind. */
k23vm_error *k23vm_func_new_ffi(k23vm_store *store, const char *signature, void (*fn)(void), k23vm_func **out);

/* The function's type; points into the store (or the module) and lives as long as they do. */
const k23vm_functype *k23vm_func_type(const k23vm_func *func);
/* The store that owns the function. */
k23vm_store *k23vm_func_store(const k23vm_func *func);

/* Calls func. args must match its parameter types in number and kind, and nresults its result
 * count, else a K23VM_ERROR_ARGUMENT error (and nothing runs). When the call traps, the return
 * is NULL and *trap holds the trap (the caller owns it); otherwise *trap is NULL and
 * results[0 .. nresults) hold the results. May be called from inside a host function (through
 * k23vm_caller_store): nesting deeper than the store's max_reentry traps with
 * K23VM_TRAP_STACK_EXHAUSTED. */
k23vm_error *k23vm_func_call(k23vm_store *store, k23vm_func *func, const k23vm_val *args, size_t nargs,
                             k23vm_val *results, size_t nresults, k23vm_trap **trap);

/* ---- the caller handle of a host function ------------------------------------------------------
 * Valid during the host function's call only. */

k23vm_store *k23vm_caller_store(const k23vm_caller *caller);
/* The instance of the wasm function that called, or NULL when the host function was called
 * directly (k23vm_func_call) or the tier did not say. */
k23vm_instance *k23vm_caller_instance(const k23vm_caller *caller);
/* The calling instance's memory 0 (imported or its own), or NULL when it has none. */
k23vm_memory *k23vm_caller_memory(const k23vm_caller *caller);
/* The calling instance's export `name`; false when there is no such export or no instance. */
bool k23vm_caller_export(const k23vm_caller *caller, const char *name, size_t name_len, k23vm_extern *out);

/* ---- memories --------------------------------------------------------------------------------- */

/* A memory of limits->min pages, growable up to limits->max (when has_max) and the store's cap. */
k23vm_error *k23vm_memory_new(k23vm_store *store, const k23vm_limits *limits, k23vm_memory **out);
/* The bytes, k23vm_memory_data_size of them. Valid until the memory grows or wasm code runs (in
 * explicit bounds mode a grow may move them); never NULL. */
uint8_t *k23vm_memory_data(const k23vm_memory *memory);
size_t k23vm_memory_data_size(const k23vm_memory *memory);
/* Size in 64 KiB pages. */
uint64_t k23vm_memory_size(const k23vm_memory *memory);
/* Grows by delta pages (zero-filled) and returns the old size in pages, or -1 when the result
 * would pass the memory's maximum or the store's cap, or memory cannot be had (as memory.grow). */
int64_t k23vm_memory_grow(k23vm_memory *memory, uint64_t delta);
/* The type: min is the current size, max the declared maximum. */
void k23vm_memory_type(const k23vm_memory *memory, k23vm_limits *out);

/* ---- tables ------------------------------------------------------------------------------------- */

/* A table of elem (K23VM_FUNCREF or K23VM_EXTERNREF) with limits->min elements set to init (NULL:
 * null references; else init->kind must be elem). */
k23vm_error *k23vm_table_new(k23vm_store *store, k23vm_valkind elem, const k23vm_limits *limits,
                             const k23vm_val *init, k23vm_table **out);
/* Current size in elements. */
uint32_t k23vm_table_size(const k23vm_table *table);
/* Element index; false when index is out of bounds. */
bool k23vm_table_get(const k23vm_table *table, uint32_t index, k23vm_val *out);
/* K23VM_ERROR_ARGUMENT when index is out of bounds, the value's kind is not the element type
 * or a funcref belongs to another store. */
k23vm_error *k23vm_table_set(k23vm_table *table, uint32_t index, const k23vm_val *value);
/* Grows by delta elements set to init (NULL: null) and returns the old size, or -1 past the
 * maximum (or when init has the wrong kind). */
int64_t k23vm_table_grow(k23vm_table *table, uint32_t delta, const k23vm_val *init);
/* The type: min is the current size. */
void k23vm_table_type(const k23vm_table *table, k23vm_valkind *elem, k23vm_limits *limits);

/* ---- globals ------------------------------------------------------------------------------------ */

k23vm_error *k23vm_global_new(k23vm_store *store, k23vm_valkind type, bool is_mutable, const k23vm_val *init,
                              k23vm_global **out);
/* Kind set and value, v128 in little-endian lane order. */
void k23vm_global_get(const k23vm_global *global, k23vm_val *out);
/* K23VM_ERROR_ARGUMENT when the global is immutable or the value has another kind. */
k23vm_error *k23vm_global_set(k23vm_global *global, const k23vm_val *value);
/* Either out-parameter may be NULL. */
void k23vm_global_type(const k23vm_global *global, k23vm_valkind *type, bool *is_mutable);

/* ---- instances ---------------------------------------------------------------------------------- */

/* Instantiates module (spec 4.5.4) with imports[i] for the module's import i (n must be the
 * module's import count). Errors: K23VM_ERROR_UNLINKABLE ("incompatible import type") when an
 * import does not match; K23VM_ERROR_RESOURCE when memory, a pool slot or a store limit fails;
 * K23VM_ERROR_UNINSTANTIABLE when a segment is out of bounds or the start function traps; then
 * *trap (when trap is not NULL) receives the trap, owned by the caller, and what the segments
 * before it wrote stays written, also in imported tables and memories (the partly initialised
 * instance stays in the store but is not handed out). On success *out is the instance, owned by
 * the store. */
k23vm_error *k23vm_instance_new(k23vm_store *store, const k23vm_module *module, const k23vm_extern *imports,
                                size_t n, k23vm_instance **out, k23vm_trap **trap);
/* The module the instance was made from. */
const k23vm_module *k23vm_instance_module(const k23vm_instance *instance);
/* The export called name; false when there is none. */
bool k23vm_instance_export(const k23vm_instance *instance, const char *name, size_t name_len, k23vm_extern *out);
/* As many as the module exports. */
size_t k23vm_instance_export_count(const k23vm_instance *instance);
/* Export i, in the module's order, and its name (pointing into the module). */
bool k23vm_instance_export_at(const k23vm_instance *instance, size_t i, k23vm_name *name, k23vm_extern *out);

/* ---- linker --------------------------------------------------------------------------------------
 * Names to externs, to instantiate modules by their import names. Owned by the caller; the
 * externs it holds belong to their stores and must be used with those. Names are copied. */

/* An empty linker, owned by the caller; it must not outlive the engine. */
k23vm_error *k23vm_linker_new(k23vm_engine *engine, k23vm_linker **out);
/* Frees the linker and its copies of the names, not the externs (their stores own them). */
void k23vm_linker_delete(k23vm_linker *linker);
/* Defines module_name.name; a later definition of the same names replaces the earlier one. */
k23vm_error *k23vm_linker_define(k23vm_linker *linker, const char *module_name, size_t module_len, const char *name,
                                 size_t name_len, const k23vm_extern *item);
/* Defines every export of instance under module_name (the spec test suite's `register`). */
k23vm_error *k23vm_linker_define_instance(k23vm_linker *linker, const char *module_name, size_t module_len,
                                          const k23vm_instance *instance);
/* The extern defined as module_name.name; false when there is none. */
bool k23vm_linker_get(const k23vm_linker *linker, const char *module_name, size_t module_len, const char *name,
                      size_t name_len, k23vm_extern *out);
/* k23vm_instance_new with each import looked up by its names: a missing one is
 * K23VM_ERROR_UNLINKABLE "unknown import"; one of another store is K23VM_ERROR_ARGUMENT. */
k23vm_error *k23vm_linker_instantiate(const k23vm_linker *linker, k23vm_store *store, const k23vm_module *module,
                                      k23vm_instance **out, k23vm_trap **trap);

/* ---- memory faults (guard-page bounds, ARCHITECTURE.md 7) -----------------------------------------
 * In guard-page mode an out-of-bounds access of wasm code faults on an inaccessible page. The
 * hosted build handles that itself (SIGSEGV/SIGBUS handlers installed by the platform's fault_init
 * hook). A kernel forwards its page faults here: it passes the value of the faulting thread's
 * thread_slot (include/k23vm/platform.h) and the fault with the interrupted registers named
 * below; when the answer is true, the fault was an out-of-bounds access of wasm code, and the
 * kernel resumes the thread with the program counter, stack pointer and first two integer
 * argument registers set from *resume (every other register as it was); the interrupted code
 * then ends in a K23VM_TRAP_MEMORY_OUT_OF_BOUNDS trap. false: not k23vm's fault, handle it as
 * without k23vm. Async-signal-safe; allocates nothing, takes no lock. */
typedef struct k23vm_fault {
    uintptr_t pc, fp, sp; /* of the faulting instruction */
    uintptr_t arg0, arg1; /* the first two integer argument registers (rdi, rsi / x0, x1 / a0, a1) */
    uintptr_t addr;       /* the data address that faulted */
} k23vm_fault;

typedef struct k23vm_fault_resume {
    uintptr_t pc, sp, arg0, arg1;
} k23vm_fault_resume;

bool k23vm_handle_fault(void *thread_slot_value, const k23vm_fault *fault, k23vm_fault_resume *resume);

#ifdef __cplusplus
}
#endif
#endif /* K23VM_H */
