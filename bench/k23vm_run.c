/* k23vm_run.c - runs one benchmark program's wasm build under k23vm: engine, module, store,
 * instance, then a timed call of the export `run` (() -> i64 or i32). Prints the line bench/run
 * reads from every runner, "checksum=N seconds=S cpu=C" (wall-clock and process CPU time); only
 * the call is timed (decoding, validating
 * and instantiating happen before the clock starts; lazy translation of functions happens during
 * the call and counts, as it does for any embedder).
 *
 *   k23vm_run [--mode interp|jit|tiered] [--bounds default|guard|explicit]
 *             [--allocator plain|pooling] [--expect CHECKSUM] FILE.wasm
 *   k23vm_run --probe [--mode M] [--bounds B]
 *
 * --probe only makes the engine: exit status 0 when this build serves that configuration (the
 * harness asks which modes exist). Exit status: 0 ok, 1 error or trap, 2 usage, 3 wrong checksum. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k23vm.h"

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "k23vm_run: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "k23vm_run: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "k23vm_run: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

static int report_error(const char *what, k23vm_error *err)
{
    size_t off = k23vm_error_offset(err);
    if (off != SIZE_MAX)
        fprintf(stderr, "k23vm_run: %s: %s (at byte %zu)\n", what, k23vm_error_message(err), off);
    else
        fprintf(stderr, "k23vm_run: %s: %s\n", what, k23vm_error_message(err));
    k23vm_error_delete(err);
    return 1;
}

static int report_trap(const char *what, k23vm_trap *trap)
{
    fprintf(stderr, "k23vm_run: %s: trap: %s\n", what, k23vm_trap_message(trap));
    size_t n = k23vm_trap_frame_count(trap);
    for (size_t i = 0; i < n; i++) {
        k23vm_frame fr;
        if (!k23vm_trap_frame(trap, i, &fr))
            break;
        fprintf(stderr, "  #%zu func %" PRIu32 " %.*s\n", i, fr.funcidx, (int)fr.func_name.len, fr.func_name.ptr);
    }
    k23vm_trap_delete(trap);
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: k23vm_run [--mode interp|jit|tiered] [--bounds default|guard|explicit]\n"
                    "                 [--allocator plain|pooling] [--expect CHECKSUM] FILE.wasm\n"
                    "       k23vm_run --probe [--mode M] [--bounds B] [--allocator A]\n");
    return 2;
}

/* Index of word in names (NULL-terminated), or -1. */
static int pick(const char *word, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(word, names[i]) == 0)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {"interp", "jit", "tiered", NULL};
    static const k23vm_exec_mode mode_vals[] = {K23VM_MODE_INTERP, K23VM_MODE_JIT, K23VM_MODE_TIERED};
    static const char *const bounds[] = {"default", "guard", "explicit", NULL};
    static const k23vm_bounds_mode bounds_vals[] = {K23VM_BOUNDS_DEFAULT, K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    static const char *const allocators[] = {"plain", "pooling", NULL};
    static const k23vm_allocator_kind allocator_vals[] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};

    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    const char *file = NULL, *expect = NULL;
    bool probe = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k;
        if (strcmp(a, "--probe") == 0) {
            probe = true;
        } else if (strcmp(a, "--mode") == 0 && i + 1 < argc) {
            if ((k = pick(argv[++i], modes)) < 0)
                return usage();
            cfg.mode = mode_vals[k];
        } else if (strcmp(a, "--bounds") == 0 && i + 1 < argc) {
            if ((k = pick(argv[++i], bounds)) < 0)
                return usage();
            cfg.bounds = bounds_vals[k];
        } else if (strcmp(a, "--allocator") == 0 && i + 1 < argc) {
            if ((k = pick(argv[++i], allocators)) < 0)
                return usage();
            cfg.allocator = allocator_vals[k];
        } else if (strcmp(a, "--expect") == 0 && i + 1 < argc) {
            expect = argv[++i];
        } else if (a[0] != '-' && !file) {
            file = a;
        } else {
            return usage();
        }
    }
    if (!probe && !file)
        return usage();

    int status = 1;
    uint8_t *bytes = NULL;
    k23vm_engine *engine = NULL;
    k23vm_module *module = NULL;
    k23vm_store *store = NULL;
    k23vm_error *err;
    k23vm_trap *trap = NULL;

    if ((err = k23vm_engine_new(&cfg, &engine))) {
        status = report_error("engine", err);
        goto out;
    }
    if (probe) {
        status = 0;
        goto out;
    }

    size_t size = 0;
    if (!(bytes = slurp(file, &size)))
        goto out;
    if ((err = k23vm_module_new(engine, bytes, size, &module))) {
        status = report_error(file, err);
        goto out;
    }
    if (k23vm_module_import_count(module) != 0) {
        /* The freestanding benchmark builds import nothing; WASI builds need a WASI layer. */
        fprintf(stderr, "k23vm_run: %s: the module has imports; only self-contained modules run here\n", file);
        goto out;
    }
    if ((err = k23vm_store_new(engine, NULL, &store))) {
        status = report_error("store", err);
        goto out;
    }
    k23vm_instance *instance = NULL;
    if ((err = k23vm_instance_new(store, module, NULL, 0, &instance, &trap))) {
        if (trap)
            report_trap(file, trap);
        status = report_error(file, err);
        goto out;
    }
    k23vm_extern run;
    if (!k23vm_instance_export(instance, "run", 3, &run) || run.kind != K23VM_EXTERN_FUNC) {
        fprintf(stderr, "k23vm_run: %s: no exported function \"run\"\n", file);
        goto out;
    }
    const k23vm_functype *type = k23vm_func_type(run.of.func);
    if (type->nparams != 0 || type->nresults != 1 ||
        (type->results[0] != K23VM_I64 && type->results[0] != K23VM_I32)) {
        fprintf(stderr, "k23vm_run: %s: \"run\" must have the type [] -> [i64] or [] -> [i32]\n", file);
        goto out;
    }

    k23vm_val result;
    memset(&result, 0, sizeof result);
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
    err = k23vm_func_call(store, run.of.func, NULL, 0, &result, 1, &trap);
    double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (err) {
        status = report_error(file, err);
        goto out;
    }
    if (trap) {
        status = report_trap(file, trap);
        goto out;
    }

    uint64_t checksum = result.kind == K23VM_I64 ? (uint64_t)result.of.i64 : (uint64_t)(uint32_t)result.of.i32;
    printf("checksum=%" PRIu64 " seconds=%.6f cpu=%.6f\n", checksum, t1 - t0, c1 - c0);
    status = 0;
    if (expect && strtoull(expect, NULL, 10) != checksum) {
        fprintf(stderr, "k23vm_run: %s: checksum %" PRIu64 ", expected %s\n", file, checksum, expect);
        status = 3;
    }

out:
    k23vm_store_delete(store);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    return status;
}
