/* demo.c - the embedding program of `make demo`: runs build/examples/demo.wasm (examples/guest/demo.c,
 * C compiled by clang for freestanding wasm32) in k23vm's interpreter. The guest's only import is
 * env.print(ptr, len), provided here: it writes len bytes of the guest's memory to standard output.
 * The program's output is the guest's alone; the timing goes to standard error.
 *
 *   build/examples/demo build/examples/demo.wasm
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "example.h"
#include "k23vm.h"

/* The time of clock (CLOCK_MONOTONIC: wall-clock; CLOCK_PROCESS_CPUTIME_ID: this process's CPU). */
static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* env.print(ptr: i32, len: i32): the guest's bytes [ptr, ptr + len) to standard output. env counts
 * the calls. */
static k23vm_trap *env_print(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    uint64_t *calls = env;
    ++*calls;
    k23vm_memory *memory = k23vm_caller_memory(caller);
    uint32_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
    if (!memory || (uint64_t)ptr + len > k23vm_memory_data_size(memory))
        return k23vm_trap_new(k23vm_caller_store(caller), "env.print: text out of bounds");
    fwrite(k23vm_memory_data(memory) + ptr, 1, len, stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s demo.wasm\n", argv[0]);
        return 2;
    }
    int status = 1;
    uint64_t print_calls = 0;
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
    k23vm_extern print = {.kind = K23VM_EXTERN_FUNC};
    if (!ok(k23vm_func_new_typed(store, "ii", env_print, &print_calls, NULL, &print.of.func), "env.print"))
        goto out;
    k23vm_instance *instance;
    if (!ok(k23vm_linker_new(engine, &linker), "linker") ||
        !ok(k23vm_linker_define(linker, "env", 3, "print", 5, &print), "define env.print") ||
        !ok(k23vm_linker_instantiate(linker, store, module, &instance, NULL), "instantiate"))
        goto out;
    k23vm_extern run;
    if (!k23vm_instance_export(instance, "run", 3, &run) || run.kind != K23VM_EXTERN_FUNC) {
        fprintf(stderr, "%s exports no function \"run\"\n", argv[1]);
        goto out;
    }

    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    k23vm_trap *trap;
    if (!ok(k23vm_func_call(store, run.of.func, NULL, 0, NULL, 0, &trap), "run")) goto out;
    wall = seconds(CLOCK_MONOTONIC) - wall;
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    fflush(stdout);
    if (trap) {
        fprintf(stderr, "run trapped: %s\n", k23vm_trap_message(trap));
        for (size_t i = 0; i < k23vm_trap_frame_count(trap); i++) {
            k23vm_frame f;
            if (k23vm_trap_frame(trap, i, &f))
                fprintf(stderr, "  #%zu %.*s (function %" PRIu32 ")\n", i, (int)f.func_name.len,
                        f.func_name.ptr, f.funcidx);
        }
        k23vm_trap_delete(trap);
        goto out;
    }
    fprintf(stderr,
            "[run() took %.0f ms of CPU time (%.0f ms wall-clock) in k23vm's interpreter; %" PRIu64
            " calls to env.print]\n",
            cpu * 1e3, wall * 1e3, print_calls);
    status = 0;

out:
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    return status;
}
