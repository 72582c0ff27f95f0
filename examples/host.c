/* host.c - embedding example 2: host functions imported by wasm. The guest
 * (examples/guest/host.wat) imports
 *   host.log(ptr, len)       prints a string that lies in the guest's memory: the host function
 *                            reaches that memory through its caller handle;
 *   host.sum_terms(n) -> i64 calls back into the guest's export "term" for 1..n and sums.
 * log is written in the raw convention (k23vm_func_new: one array for arguments and results),
 * sum_terms in the typed convenience (k23vm_func_new_typed: a signature string, separate arrays).
 * A linker makes them known to the module by their import names.
 *
 *   build/examples/host build/examples/host.wasm
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "k23vm.h"

/* ---- the host functions ------------------------------------------------------------------------
 * A host function gets its env pointer (here: a counter of the host's), the caller handle and the
 * arguments; it writes its results and returns NULL, or returns a trap, which stops the wasm code
 * that called it (the VM takes the trap over). */

/* host.log(ptr: i32, len: i32), raw: args_results holds the two arguments; no results to write. */
static k23vm_trap *host_log(void *env, k23vm_caller *caller, k23vm_val *args_results, size_t nargs,
                            size_t nresults)
{
    int *calls = env;
    ++*calls;
    /* The bytes of the calling instance's memory. The guest is not trusted: check the range. */
    k23vm_memory *memory = k23vm_caller_memory(caller);
    uint32_t ptr = (uint32_t)args_results[0].of.i32, len = (uint32_t)args_results[1].of.i32;
    if (!memory || (uint64_t)ptr + len > k23vm_memory_data_size(memory))
        return k23vm_trap_new(k23vm_caller_store(caller), "host.log: string out of bounds");
    printf("[host] log: \"%.*s\"\n", (int)len, (const char *)k23vm_memory_data(memory) + ptr);
    return NULL;
}

/* host.sum_terms(n: i32) -> i64, typed: signature "i>I". Calls the caller's export "term" (i32 -> i64). */
static k23vm_trap *host_sum_terms(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    k23vm_store *store = k23vm_caller_store(caller);
    k23vm_extern term;
    if (!k23vm_caller_export(caller, "term", 4, &term) || term.kind != K23VM_EXTERN_FUNC)
        return k23vm_trap_new(store, "host.sum_terms: the caller exports no function \"term\"");
    int32_t n = args[0].of.i32;
    printf("[host] sum_terms(%" PRId32 "): calling back into wasm's term(1..%" PRId32 ")\n", n, n);
    int64_t sum = 0;
    for (int32_t i = 1; i <= n; i++) {
        k23vm_val arg = {.kind = K23VM_I32, .of.i32 = i}, result;
        k23vm_trap *trap;
        k23vm_error *err = k23vm_func_call(store, term.of.func, &arg, 1, &result, 1, &trap);
        if (err) { /* "term" has another type than we expect: make it the caller's trap */
            trap = k23vm_trap_new(store, k23vm_error_message(err));
            k23vm_error_delete(err);
        }
        if (trap) return trap; /* a trap in the callback ends the outer call too */
        sum += result.of.i64;
    }
    results[0] = (k23vm_val){.kind = K23VM_I64, .of.i64 = sum};
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s host.wasm\n", argv[0]);
        return 2;
    }
    int status = 1, log_calls = 0;
    k23vm_engine *engine = NULL;
    k23vm_module *module = NULL;
    k23vm_store *store = NULL;
    k23vm_linker *linker = NULL;
    size_t len;
    uint8_t *bytes = read_file(argv[1], &len);
    if (!bytes) goto out;

    if (!ok(k23vm_engine_new(NULL, &engine), "engine")) goto out;
    if (!ok(k23vm_module_new(engine, bytes, len, &module), argv[1])) goto out;
    if (!ok(k23vm_store_new(engine, NULL, &store), "store")) goto out;

    /* Host functions live in the store, like everything the module's instance will use. */
    static const k23vm_valkind log_params[] = {K23VM_I32, K23VM_I32};
    const k23vm_functype log_type = {.nparams = 2, .params = log_params, .nresults = 0};
    k23vm_extern log_func = {.kind = K23VM_EXTERN_FUNC}, sum_func = {.kind = K23VM_EXTERN_FUNC};
    if (!ok(k23vm_func_new(store, &log_type, host_log, &log_calls, NULL, &log_func.of.func), "host.log") ||
        !ok(k23vm_func_new_typed(store, "i>I", host_sum_terms, NULL, NULL, &sum_func.of.func),
            "host.sum_terms"))
        goto out;

    /* The linker matches the module's imports by their names. */
    if (!ok(k23vm_linker_new(engine, &linker), "linker") ||
        !ok(k23vm_linker_define(linker, "host", 4, "log", 3, &log_func), "define host.log") ||
        !ok(k23vm_linker_define(linker, "host", 4, "sum_terms", 9, &sum_func), "define host.sum_terms"))
        goto out;
    k23vm_instance *instance;
    if (!ok(k23vm_linker_instantiate(linker, store, module, &instance, NULL), "instantiate")) goto out;

    k23vm_extern run;
    if (!k23vm_instance_export(instance, "run", 3, &run) || run.kind != K23VM_EXTERN_FUNC) {
        fprintf(stderr, "no exported function \"run\"\n");
        goto out;
    }
    k23vm_val arg = {.kind = K23VM_I32, .of.i32 = 10}, result;
    k23vm_trap *trap;
    if (!ok(k23vm_func_call(store, run.of.func, &arg, 1, &result, 1, &trap), "run")) goto out;
    if (trap) {
        fprintf(stderr, "run trapped: %s\n", k23vm_trap_message(trap));
        k23vm_trap_delete(trap);
        goto out;
    }
    printf("run(10) = %" PRId64 " (1 + 4 + 9 + ... + 100)\n", result.of.i64);
    printf("host.log was called %d time(s)\n", log_calls);
    status = 0;

out:
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    return status;
}
