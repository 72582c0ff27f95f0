/* memory.c - embedding example 3: one memory shared by the host and two instances, and a trap.
 * The host makes a memory and hands it to two modules that import it as env.memory:
 * examples/guest/producer.wat writes an array into it, examples/guest/consumer.wat sums arrays in
 * it, and the host reads and writes it directly in between. Then a sum past the end of the memory
 * traps; the host prints the trap's message and backtrace (function names from the consumer's
 * name section), grows the memory and tries again.
 *
 *   build/examples/memory build/examples/producer.wasm build/examples/consumer.wasm
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "k23vm.h"

/* Reads, decodes and validates the module in path; NULL (with the reason printed) on failure. */
static k23vm_module *load(k23vm_engine *engine, const char *path)
{
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) return NULL;
    k23vm_module *module = NULL;
    k23vm_error *err = k23vm_module_new(engine, bytes, len, &module);
    free(bytes); /* the module has its own copy */
    ok(err, path);
    return module;
}

/* The exported function `name` of instance, or NULL (with the reason printed). */
static k23vm_func *export_func(const k23vm_instance *instance, const char *name)
{
    k23vm_extern ext;
    if (k23vm_instance_export(instance, name, strlen(name), &ext) && ext.kind == K23VM_EXTERN_FUNC)
        return ext.of.func;
    fprintf(stderr, "no exported function \"%s\"\n", name);
    return NULL;
}

/* Prints a trap: its message, then one line per wasm frame, innermost first. */
static void print_trap(const k23vm_trap *trap)
{
    printf("trap: %s\n", k23vm_trap_message(trap));
    for (size_t i = 0; i < k23vm_trap_frame_count(trap); i++) {
        k23vm_frame f;
        if (!k23vm_trap_frame(trap, i, &f)) break;
        printf("  #%zu  ", i);
        /* Names are not NUL-terminated; an unnamed function shows as its index. */
        if (f.module_name.len) printf("%.*s!", (int)f.module_name.len, f.module_name.ptr);
        if (f.func_name.len)
            printf("%.*s", (int)f.func_name.len, f.func_name.ptr);
        else
            printf("func[%" PRIu32 "]", f.funcidx);
        if (f.module_offset != SIZE_MAX) printf("  at byte 0x%zx of the module", f.module_offset);
        printf("\n");
    }
}

/* Calls consumer's sum(ptr, n). On success prints and returns true; on a trap prints the trap and
 * returns true as well (a trap is an outcome of the call, not a failure of the host); false only
 * when the call could not be made. */
static bool sum(k23vm_store *store, k23vm_func *func, int32_t ptr, int32_t n)
{
    k23vm_val args[2] = {{.kind = K23VM_I32, .of.i32 = ptr}, {.kind = K23VM_I32, .of.i32 = n}}, result;
    k23vm_trap *trap;
    if (!ok(k23vm_func_call(store, func, args, 2, &result, 1, &trap), "sum")) return false;
    printf("consumer: sum(%" PRId32 ", %" PRId32 ") ", ptr, n);
    if (trap) {
        printf("traps\n");
        print_trap(trap);
        k23vm_trap_delete(trap);
    } else {
        printf("= %" PRId64 "\n", result.of.i64);
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s producer.wasm consumer.wasm\n", argv[0]);
        return 2;
    }
    int status = 1;
    k23vm_engine *engine = NULL;
    k23vm_module *producer = NULL, *consumer = NULL;
    k23vm_store *store = NULL;
    k23vm_linker *linker = NULL;

    if (!ok(k23vm_engine_new(NULL, &engine), "engine")) goto out;
    if (!(producer = load(engine, argv[1])) || !(consumer = load(engine, argv[2]))) goto out;
    if (!ok(k23vm_store_new(engine, NULL, &store), "store")) goto out;

    /* The memory: 1 page (64 KiB) now, at most 2. Both modules import it as env.memory. */
    k23vm_extern memory = {.kind = K23VM_EXTERN_MEMORY};
    k23vm_limits limits = {.min = 1, .max = 2, .has_max = true};
    if (!ok(k23vm_memory_new(store, &limits, &memory.of.memory), "memory")) goto out;
    k23vm_instance *prod, *cons;
    if (!ok(k23vm_linker_new(engine, &linker), "linker") ||
        !ok(k23vm_linker_define(linker, "env", 3, "memory", 6, &memory), "define env.memory") ||
        !ok(k23vm_linker_instantiate(linker, store, producer, &prod, NULL), "instantiate producer") ||
        !ok(k23vm_linker_instantiate(linker, store, consumer, &cons, NULL), "instantiate consumer"))
        goto out;
    k23vm_func *squares = export_func(prod, "squares"), *sum_func = export_func(cons, "sum");
    if (!squares || !sum_func) goto out;

    /* 1. The producer writes ten squares at address 0 ... */
    k23vm_val args[2] = {{.kind = K23VM_I32, .of.i32 = 0}, {.kind = K23VM_I32, .of.i32 = 10}};
    k23vm_trap *trap;
    if (!ok(k23vm_func_call(store, squares, args, 2, NULL, 0, &trap), "squares")) goto out;
    if (trap) {
        print_trap(trap);
        k23vm_trap_delete(trap);
        goto out;
    }
    printf("producer: squares(0, 10) wrote 10 i32 values at address 0\n");

    /* ... the host reads them straight from the memory's bytes (little-endian, as wasm stores
     * them; memcpy because the address need not be aligned for the host) ... */
    uint8_t *data = k23vm_memory_data(memory.of.memory);
    printf("host reads:");
    for (int i = 0; i < 10; i++) {
        int32_t v;
        memcpy(&v, data + 4 * i, sizeof v);
        printf(" %" PRId32, v);
    }
    printf("\n");

    /* ... and the consumer sums them. */
    if (!sum(store, sum_func, 0, 10)) goto out;

    /* 2. The host writes an array of its own at address 1000, the consumer sums it. */
    for (int32_t i = 0; i < 4; i++) {
        int32_t v = 1000 * (i + 1);
        memcpy(data + 1000 + 4 * i, &v, sizeof v);
    }
    printf("host writes: 1000 2000 3000 4000 at address 1000\n");
    if (!sum(store, sum_func, 1000, 4)) goto out;

    /* 3. Eight values from address 65520 on run past the end of the 64 KiB memory: a trap. */
    if (!sum(store, sum_func, 65520, 8)) goto out;

    /* 4. Grown by a page, the memory holds them (zeros). Any pointer into the memory's bytes
     * taken before the grow is stale now; take a fresh one with k23vm_memory_data. */
    int64_t old_pages = k23vm_memory_grow(memory.of.memory, 1);
    if (old_pages < 0) {
        fprintf(stderr, "memory.grow failed\n");
        goto out;
    }
    printf("host grows the memory from %" PRId64 " to %" PRIu64 " pages\n", old_pages,
           k23vm_memory_size(memory.of.memory));
    if (!sum(store, sum_func, 65520, 8)) goto out;
    status = 0;

out:
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_module_delete(consumer);
    k23vm_module_delete(producer);
    k23vm_engine_delete(engine);
    return status;
}
