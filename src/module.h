/* module.h - the decoded, validated module: what decode.c builds, validate.c checks and every later
 * stage (translator, JIT, instantiation) reads. Immutable once k23vm_module_new returns, so one
 * module serves many instances on many threads (ARCHITECTURE.md 1).
 *
 * Index spaces follow the spec (2.5.1): imports come first in each. Everything points into the
 * module's own copy of the bytes or into its arena; nothing is freed one by one.
 */
#ifndef K23VM_MODULE_H
#define K23VM_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include "k23vm.h"
#include "util.h"

typedef uint8_t valtype; /* a k23vm_valkind value; 0 is "none" */

K23VM_INLINE bool valtype_is_ref(valtype t) { return t == K23VM_FUNCREF || t == K23VM_EXTERNREF; }
K23VM_INLINE bool valtype_is_num(valtype t) { return t >= K23VM_F64 && t <= K23VM_I32; }

typedef struct functype {
    uint32_t nparams, nresults;
    const valtype *params, *results;
} functype;

typedef struct limits {
    uint64_t min, max;
    bool has_max;
} limits;

typedef struct tabletype {
    valtype elem;
    limits lim;
} tabletype;

typedef struct memtype {
    limits lim; /* pages of 64 KiB */
} memtype;

typedef struct globaltype {
    valtype type;
    bool mut;
} globaltype;

typedef struct wname {
    const char *ptr;
    uint32_t len;
} wname;

typedef struct import {
    wname module, field;
    uint8_t kind; /* k23vm_externkind */
    union {
        uint32_t typeidx; /* functions */
        tabletype table;
        memtype mem;
        globaltype global;
    } u;
} import;

typedef struct export {
    wname name;
    uint8_t kind;
    uint32_t index;
} export;

/* A constant expression (3.3.10): its bytes [start, end) in the module, ending with its `end`
 * opcode. Decoded for structure in decode.c, typed in validate.c, evaluated at instantiation. */
typedef struct constexpr {
    uint32_t start, end;
} constexpr;

typedef struct global {
    globaltype type;
    constexpr init;
} global;

typedef enum segmode { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE } segmode;

typedef struct elemseg {
    uint8_t mode; /* segmode */
    valtype type; /* funcref or externref */
    uint32_t table;
    constexpr offset; /* active only */
    uint32_t count;
    /* Exactly one of these holds the items: funcs for the funcidx-vector encodings (flags 0-3),
     * exprs for the expression encodings (flags 4-7). */
    const uint32_t *funcs;
    const constexpr *exprs;
} elemseg;

typedef struct dataseg {
    uint8_t mode; /* SEG_ACTIVE or SEG_PASSIVE */
    uint32_t mem;
    constexpr offset;
    uint32_t start, len; /* bytes in the module */
} dataseg;

/* A run of locals of one type, as declared in the code section (5.5.13). */
typedef struct localrun {
    uint32_t count;
    valtype type;
} localrun;

/* A function defined in this module. */
typedef struct func {
    uint32_t typeidx;
    uint32_t body_start; /* first instruction, after the local declarations */
    uint32_t body_end;   /* one past the final `end` opcode */
    uint32_t nruns;
    const localrun *runs;
    uint32_t nlocals; /* declared locals, not counting parameters */
    /* Filled by validation, for the translator and JIT: */
    uint32_t max_height;  /* deepest operand stack */
    uint32_t max_depth;   /* deepest control stack */
} func;

/* Names from the custom "name" section (spec appendix 7.4); sorted by index. */
typedef struct nameassoc {
    uint32_t index;
    wname name;
} nameassoc;

typedef struct localnames {
    uint32_t func;
    uint32_t count;
    const nameassoc *names;
} localnames;

struct k23vm_module {
    k23vm_engine *engine;
    const k23vm_platform *plat;
    arena arena;

    uint8_t *bytes; /* own copy */
    size_t size;

    functype *types;
    uint32_t ntypes;
    /* types[] as the public API shows them (k23vm_valkind arrays), built by module.c after
     * validation; NULL in a module made only to be checked (k23vm_module_validate). */
    k23vm_functype *api_types;

    import *imports;
    uint32_t nimports;

    /* Function index space: type indices of imports then of defined functions. */
    uint32_t *func_typeidx;
    uint32_t nfuncs, nfunc_imports;
    func *funcs; /* defined: funcs[i] is function index nfunc_imports + i */

    /* Table and memory index spaces: imports first, then the defined ones. */
    tabletype *tables;
    uint32_t ntables, ntable_imports;
    memtype *mems;
    uint32_t nmems, nmem_imports;

    globaltype *globaltypes; /* the whole index space */
    uint32_t nglobals, nglobal_imports;
    global *globals; /* defined: globals[i] is global index nglobal_imports + i */

    export *exports;
    uint32_t nexports;

    bool has_start;
    uint32_t start;

    elemseg *elems;
    uint32_t nelems;

    dataseg *datas;
    uint32_t ndatas;
    bool has_datacount;
    uint32_t datacount;

    /* C.refs (3.4.10): functions that ref.func may name; a bit per function index. */
    uint8_t *declared_refs;

    nameassoc *func_names;
    uint32_t nfunc_names;
    localnames *local_names;
    uint32_t nlocal_names;
    wname module_name;
    bool has_module_name;

    /* The one mutable part: the interpreter's translated code (src/interp/), per defined function,
     * filled lazily and published with compare-and-swap so that threads sharing the module may
     * race on it; freed by interp_module_free. NULL until the first translation. */
    struct icode **interp_code;
};

K23VM_INLINE const functype *module_functype(const k23vm_module *m, uint32_t funcidx)
{
    return &m->types[m->func_typeidx[funcidx]];
}

#endif
