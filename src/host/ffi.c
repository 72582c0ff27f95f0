/* ffi.c - plain C functions as host functions (k23vm_func_new_ffi, include/k23vm.h) through libffi.
 * Hosted: part of libk23vm.a when CMake finds libffi, never of the freestanding core (it is not in
 * the k23vm_core object library, so tests/check-freestanding.sh does not see it).
 *
 * The function is called through libffi's call interface (ffi_cif), prepared once from the
 * signature when the host function is made; a call passes pointers to the k23vm_val payloads,
 * whose union members all start at offset 0, so no argument is copied. The C function cannot
 * trap; one that needs to should be written against the raw convention (k23vm_func_new).
 */
#include <ffi.h>

#include "engine.h"
#include "error.h"
#include "util.h"

enum { MAX_FFI_ARGS = 64 };

typedef struct ffi_env {
    const k23vm_platform *plat;
    size_t size;
    void (*fn)(void);
    bool with_caller;
    k23vm_valkind result; /* 0 when none */
    ffi_cif cif;
    ffi_type *types[]; /* the C parameters: the caller first when with_caller */
} ffi_env;

static k23vm_trap *ffi_trampoline(void *envp, k23vm_caller *caller, k23vm_val *ar, size_t nargs, size_t nresults)
{
    ffi_env *e = envp;
    void *argv[MAX_FFI_ARGS + 1];
    size_t k = 0;
    if (e->with_caller) argv[k++] = &caller;
    for (size_t i = 0; i < nargs; i++) argv[k++] = &ar[i].of;
    /* libffi widens integral results narrower than a register to ffi_arg. */
    union {
        ffi_arg word;
        int64_t i64;
        float f32;
        double f64;
        void *ptr;
    } ret;
    memset(&ret, 0, sizeof ret);
    ffi_call(&e->cif, e->fn, &ret, argv);
    if (nresults) {
        k23vm_val *r = &ar[0];
        memset(r, 0, sizeof *r);
        r->kind = e->result;
        switch (e->result) {
        case K23VM_I32: r->of.i32 = (int32_t)ret.word; break;
        case K23VM_I64: r->of.i64 = ret.i64; break;
        case K23VM_F32: r->of.f32 = ret.f32; break;
        case K23VM_F64: r->of.f64 = ret.f64; break;
        case K23VM_FUNCREF: r->of.funcref = ret.ptr; break;
        default: r->of.externref = ret.ptr; break;
        }
    }
    return NULL;
}

static void ffi_env_free(void *envp)
{
    ffi_env *e = envp;
    mem_free(e->plat, e, e->size);
}

static bool letter(char c, k23vm_valkind *kind, ffi_type **type)
{
    switch (c) {
    case 'i': *kind = K23VM_I32, *type = &ffi_type_sint32; return true;
    case 'I': *kind = K23VM_I64, *type = &ffi_type_sint64; return true;
    case 'f': *kind = K23VM_F32, *type = &ffi_type_float; return true;
    case 'F': *kind = K23VM_F64, *type = &ffi_type_double; return true;
    case 'r': *kind = K23VM_FUNCREF, *type = &ffi_type_pointer; return true;
    case 'x': *kind = K23VM_EXTERNREF, *type = &ffi_type_pointer; return true;
    default: return false; /* v128 has no C type that every ABI passes alike */
    }
}

k23vm_error *k23vm_func_new_ffi(k23vm_store *store, const char *sig, void (*fn)(void), k23vm_func **out)
{
    if (out) *out = NULL;
    if (!store || !sig || !fn || !out) return err_static(ERR_STATIC_NULL_ARG);
    const k23vm_platform *plat = &k23vm_store_engine(store)->plat;
    bool with_caller = sig[0] == '@';
    const char *p = sig + with_caller;
    k23vm_valkind params[MAX_FFI_ARGS], result = 0;
    ffi_type *ptypes[MAX_FFI_ARGS + 1], *rtype = &ffi_type_void;
    size_t np = 0, nr = 0;
    if (with_caller) ptypes[0] = &ffi_type_pointer;
    for (; *p && *p != '>'; p++) {
        if (np == MAX_FFI_ARGS || !letter(*p, &params[np], &ptypes[np + with_caller]))
            return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "ffi signature \"%s\": bad parameter '%c'", sig,
                           *p);
        np++;
    }
    if (*p == '>') {
        p++;
        if (*p) {
            if (!letter(*p, &result, &rtype))
                return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "ffi signature \"%s\": bad result '%c'", sig,
                               *p);
            nr = 1;
            p++;
        }
        if (*p)
            return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET,
                           "ffi signature \"%s\": a C function has at most one result", sig);
    }
    size_t nc = np + with_caller;
    size_t size = sizeof(ffi_env) + nc * sizeof(ffi_type *);
    ffi_env *e = mem_zalloc(plat, size);
    if (!e) return err_oom();
    e->plat = plat;
    e->size = size;
    e->fn = fn;
    e->with_caller = with_caller;
    e->result = result;
    if (nc) memcpy(e->types, ptypes, nc * sizeof *ptypes);
    if (ffi_prep_cif(&e->cif, FFI_DEFAULT_ABI, (unsigned)nc, rtype, e->types) != FFI_OK) {
        mem_free(plat, e, size);
        return err_new(plat, K23VM_ERROR_ARGUMENT, K23VM_NO_OFFSET, "ffi signature \"%s\": libffi refuses it", sig);
    }
    k23vm_functype ft = {np, nr, params, &result};
    k23vm_error *err = k23vm_func_new(store, &ft, ffi_trampoline, e, ffi_env_free, out);
    if (err) mem_free(plat, e, size);
    return err;
}
