/* call.c - embedding example 1: load a module, instantiate it and call its exported functions
 * with arguments, printing their results. The guest is examples/guest/call.wat.
 *
 *   build/examples/call build/examples/call.wasm
 *
 * The steps every embedding program takes: an engine (configuration, shareable), a module
 * (decoded and validated bytes, immutable), a store (owns every runtime object), an instance (the
 * module's functions, memories, ... made real in the store), then calls. Every function that can
 * fail returns a k23vm_error * (NULL on success); a call that traps returns its trap separately. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "k23vm.h"

/* Calls the instance's exported function `name`. False (with the reason printed) when there is no
 * such function, the arguments do not match its type or the call traps. */
static bool call(k23vm_store *store, k23vm_instance *instance, const char *name, const k23vm_val *args,
                 size_t nargs, k23vm_val *results, size_t nresults)
{
    k23vm_extern ext;
    if (!k23vm_instance_export(instance, name, strlen(name), &ext) || ext.kind != K23VM_EXTERN_FUNC) {
        fprintf(stderr, "no exported function \"%s\"\n", name);
        return false;
    }
    k23vm_trap *trap;
    if (!ok(k23vm_func_call(store, ext.of.func, args, nargs, results, nresults, &trap), name)) return false;
    if (trap) {
        fprintf(stderr, "%s trapped: %s\n", name, k23vm_trap_message(trap));
        k23vm_trap_delete(trap);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s call.wasm\n", argv[0]);
        return 2;
    }
    int status = 1;
    k23vm_engine *engine = NULL;
    k23vm_module *module = NULL;
    k23vm_store *store = NULL;
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) goto out;

    /* NULL: the default configuration (the interpreter, the hosted platform). */
    if (!ok(k23vm_engine_new(NULL, &engine), "engine")) goto out;
    /* The module keeps its own copy of the bytes. */
    if (!ok(k23vm_module_new(engine, bytes, len, &module), argv[1])) goto out;
    if (!ok(k23vm_store_new(engine, NULL, &store), "store")) goto out;
    /* call.wasm has no imports and no start function, so: no imports and no trap to collect. */
    k23vm_instance *instance;
    if (!ok(k23vm_instance_new(store, module, NULL, 0, &instance, NULL), "instantiate")) goto out;

    /* Arguments and results are tagged values; the kinds must match the function's type. */
    k23vm_val args[2] = {{.kind = K23VM_I32, .of.i32 = 2}, {.kind = K23VM_I32, .of.i32 = 40}};
    k23vm_val res[2];
    if (!call(store, instance, "add", args, 2, res, 1)) goto out;
    printf("add(2, 40) = %" PRId32 "\n", res[0].of.i32);

    args[0] = (k23vm_val){.kind = K23VM_I64, .of.i64 = 20};
    if (!call(store, instance, "factorial", args, 1, res, 1)) goto out;
    printf("factorial(20) = %" PRId64 "\n", res[0].of.i64);

    args[0] = (k23vm_val){.kind = K23VM_I32, .of.i32 = 17};
    args[1] = (k23vm_val){.kind = K23VM_I32, .of.i32 = 5};
    if (!call(store, instance, "divmod", args, 2, res, 2)) goto out;
    printf("divmod(17, 5) = (%" PRId32 ", %" PRId32 ")\n", res[0].of.i32, res[1].of.i32);

    args[0] = (k23vm_val){.kind = K23VM_F64, .of.f64 = 3.0};
    args[1] = (k23vm_val){.kind = K23VM_F64, .of.f64 = 4.0};
    if (!call(store, instance, "hypot", args, 2, res, 1)) goto out;
    printf("hypot(3, 4) = %g\n", res[0].of.f64);

    /* A call whose arguments do not fit the type is refused before anything runs. */
    k23vm_extern add;
    k23vm_trap *trap;
    k23vm_instance_export(instance, "add", 3, &add);
    k23vm_error *err = k23vm_func_call(store, add.of.func, args, 2, res, 1, &trap);
    if (!err) {
        fprintf(stderr, "add(f64, f64) was not refused\n");
        goto out;
    }
    printf("add(3.0, 4.0) is refused: %s\n", k23vm_error_message(err));
    k23vm_error_delete(err);
    status = 0;

out:
    /* The store frees the instance and everything else it holds; then the module, the engine. */
    k23vm_store_delete(store);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    return status;
}
