/* micro_bench.c - micro-benchmarks of the VM's fixed costs (issue 5): interpreter translation
 * MB/s, instantiation time (plain and pooling allocator), host->wasm and wasm->host call
 * overhead. Prints a markdown section that `make bench` appends to bench/results/latest.md.
 *
 *   micro_bench [-n RUNS] [-i ITERS] [-t SECONDS] [--quick] [FILE...]
 *
 * FILE...: modules whose translation is timed (`make bench` passes esbuild.wasm). The build's
 * examples/demo.wasm, found beside this program's directory, is added as the small module unless
 * a FILE of that name is given, since the Makefile names only the large one. RUNS (default 21)
 * is the number of timed runs of every measurement but instantiation, which is timed ITERS times
 * (default 10000); translation stops early, after at least 3 runs, once SECONDS (default 20) have
 * gone on one module. --quick: a few iterations of everything, for the smoke test (CTest
 * micro_bench_quick); its figures mean nothing.
 *
 * Every figure is the best and the median of its runs, nothing subtracted (not even the clock's
 * own cost, which is printed). The modules for instantiation and calls are written here byte by
 * byte, so the benchmark needs no tool at run time. Exit status 1, with a message, when anything
 * fails: a module rejected, an error, a trap or a wrong result; 2 for a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "k23vm.h"
/* Internal headers: translation is not reachable through the API (it happens on a function's
 * first call), and exec_call is timed beside k23vm_func_call to show what the API's checks and
 * conversions cost. */
#include "interp/code.h"
#include "interp/interp.h"
#include "validate.h"

static struct {
    int runs;
    long iters;
    double budget;
    bool quick;
    long batch;   /* host->wasm: calls per timed run */
    long loop_n;  /* wasm->host: iterations of the wasm loop per timed run */
    double min_mb; /* translation: wasm code bytes per timed run, in copies of a small module */
} opt = {21, 10000, 20, false, 100000, 1000000, 1e6};

typedef struct stat2 {
    double best, median;
} stat2;

/* Sorts t in place. */
static stat2 stats(double *t, size_t n)
{
    qsort(t, n, sizeof *t, bench_cmp_double);
    return (stat2){t[0], t[n / 2]};
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("micro_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* False, with the message, when err is an error; frees it. */
static bool ok(k23vm_error *err, const char *what)
{
    if (!err) return true;
    fail("%s: %s", what, k23vm_error_message(err));
    k23vm_error_delete(err);
    return false;
}

/* ok() for a call: neither an error nor a trap. The call must be made before this one, not in its
 * argument list: the order in which arguments are evaluated is unspecified. */
static bool call_ok(k23vm_error *err, k23vm_trap *trap, const char *what)
{
    if (!ok(err, what)) return false;
    if (!trap) return true;
    fail("%s: trap: %s", what, k23vm_trap_message(trap));
    k23vm_trap_delete(trap);
    return false;
}

/* ---- a tiny module encoder --------------------------------------------------------------------------
 * Enough of the binary format (spec 5) for the two modules below; a failed allocation sticks in
 * `oom` and is checked once at the end. */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void wb_bytes(wbuf *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

#define WB(b, ...) wb_bytes((b), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void wb_u32(wbuf *b, uint32_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        WB(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}

static void wb_name(wbuf *b, const char *s)
{
    wb_u32(b, (uint32_t)strlen(s));
    wb_bytes(b, s, strlen(s));
}

/* Appends body to out as a section (id, size, contents) or, with id < 0, as one size-prefixed
 * entry of the code section; empties body for the next one. */
static void wb_sized(wbuf *out, int id, wbuf *body)
{
    if (id >= 0) WB(out, (uint8_t)id);
    wb_u32(out, (uint32_t)body->len);
    wb_bytes(out, body->p, body->len);
    out->oom |= body->oom;
    body->len = 0;
}

enum { SEC_TYPE = 1, SEC_IMPORT = 2, SEC_FUNC = 3, SEC_MEMORY = 5, SEC_GLOBAL = 6, SEC_EXPORT = 7, SEC_CODE = 10,
       SEC_DATA = 11 };
enum { I32 = K23VM_I32, I64 = K23VM_I64, F64 = K23VM_F64 };
/* Opcodes used below (spec 5.4). */
enum { END = 0x0b, LOOP = 0x03, VOID = 0x40, BR_IF = 0x0d, CALL = 0x10, LGET = 0x20, LSET = 0x21, LTEE = 0x22,
       GGET = 0x23, GSET = 0x24, I32LOAD = 0x28, I32C = 0x41, I64C = 0x42, F64C = 0x44, I32ADD = 0x6a,
       I32SUB = 0x6b };

static void wb_header(wbuf *m) { WB(m, 0, 'a', 's', 'm', 1, 0, 0, 0); }

/* The instantiation module, in the text format:
 *   (module
 *     (memory (export "memory") 1)          ;; no maximum, as clang emits it
 *     (global (mut i32) (i32.const 0)) (global i64 (i64.const 42)) (global (mut f64) (f64.const 0.5))
 *     (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
 *     (func (export "load") (param i32) (result i32) local.get 0 i32.load)
 *     (func (export "counter") (result i32) global.get 0 i32.const 1 i32.add global.set 0 global.get 0)
 *     (data (i32.const 0) DATA0) (data (i32.const 1024) DATA1) (data (i32.const 60000) DATA2))
 * A small module of the shape a C program compiled to wasm has, without imports so that only
 * instantiation itself is timed. */
static const char DATA0[] = "k23vm micro_bench: instantiation";
static const uint8_t DATA1[64] = {0x78, 0x56, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t DATA2[16] = {0xff, 0xee, 0xdd, 0xcc};

static void build_inst_module(wbuf *m)
{
    wbuf s = {0}, f = {0};
    wb_header(m);
    WB(&s, 2, 0x60, 1, I32, 1, I32, 0x60, 0, 1, I32); /* type 0: (i32) -> i32, type 1: () -> i32 */
    wb_sized(m, SEC_TYPE, &s);
    WB(&s, 3, 0, 0, 1);
    wb_sized(m, SEC_FUNC, &s);
    WB(&s, 1, 0x00, 1); /* one memory, flags 0 (min only), min 1 page */
    wb_sized(m, SEC_MEMORY, &s);
    WB(&s, 3, I32, 1, I32C, 0, END, I64, 0, I64C, 42, END, F64, 1, F64C, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, END);
    wb_sized(m, SEC_GLOBAL, &s);
    wb_u32(&s, 4);
    const char *names[] = {"inc", "load", "counter"};
    for (uint8_t i = 0; i < 3; i++) {
        wb_name(&s, names[i]);
        WB(&s, K23VM_EXTERN_FUNC, i);
    }
    wb_name(&s, "memory");
    WB(&s, K23VM_EXTERN_MEMORY, 0);
    wb_sized(m, SEC_EXPORT, &s);
    WB(&s, 3);
    WB(&f, 0, LGET, 0, I32C, 1, I32ADD, END);
    wb_sized(&s, -1, &f);
    WB(&f, 0, LGET, 0, I32LOAD, 2, 0, END);
    wb_sized(&s, -1, &f);
    WB(&f, 0, GGET, 0, I32C, 1, I32ADD, GSET, 0, GGET, 0, END);
    wb_sized(&s, -1, &f);
    wb_sized(m, SEC_CODE, &s);
    WB(&s, 3);
    WB(&s, 0, I32C, 0, END); /* active, memory 0, offset 0 */
    wb_u32(&s, sizeof DATA0 - 1);
    wb_bytes(&s, DATA0, sizeof DATA0 - 1);
    WB(&s, 0, I32C, 0x80, 0x08, END); /* 1024 */
    wb_u32(&s, sizeof DATA1);
    wb_bytes(&s, DATA1, sizeof DATA1);
    WB(&s, 0, I32C, 0xe0, 0xd4, 0x03, END); /* 60000 */
    wb_u32(&s, sizeof DATA2);
    wb_bytes(&s, DATA2, sizeof DATA2);
    wb_sized(m, SEC_DATA, &s);
    free(s.p);
    free(f.p);
}

/* The call module: every function has type (i32) -> i32.
 *   imports env.raw, env.typed [, env.ffi]          (host functions returning their argument + 1)
 *   (func $inc (export "inc") local.get 0 i32.const 1 i32.add)
 *   (func (export "loop_X") (param $n i32) (result i32) (local $acc i32)
 *     (loop  local.get $acc  call $X  local.set $acc             ;; callee X: an import or $inc
 *            local.get $n  i32.const 1  i32.sub  local.tee $n  br_if 0)
 *     local.get $acc)
 *   loop_none is the same loop with `i32.const 1 i32.add` in place of the call: the loop's own cost.
 * The loops return n, which is checked. */
enum { C_NONE, C_WASM, C_RAW, C_TYPED, C_FFI, C_COUNT };
static const char *const callee_name[C_COUNT] = {"none", "wasm", "raw", "typed", "ffi"};

#ifdef K23VM_HAVE_FFI
enum { NIMPORTS = 3 };
#else
enum { NIMPORTS = 2 };
#endif

static void build_call_module(wbuf *m)
{
    wbuf s = {0}, f = {0};
    wb_header(m);
    WB(&s, 1, 0x60, 1, I32, 1, I32);
    wb_sized(m, SEC_TYPE, &s);
    wb_u32(&s, NIMPORTS);
    for (int c = C_RAW; c < C_RAW + NIMPORTS; c++) {
        wb_name(&s, "env");
        wb_name(&s, callee_name[c]);
        WB(&s, K23VM_EXTERN_FUNC, 0);
    }
    wb_sized(m, SEC_IMPORT, &s);
    /* Defined functions: inc, then one loop per callee kind (loop_none .. loop_<last import>). */
    uint32_t nloops = C_RAW + NIMPORTS, inc = NIMPORTS;
    wb_u32(&s, 1 + nloops);
    for (uint32_t i = 0; i < 1 + nloops; i++) WB(&s, 0);
    wb_sized(m, SEC_FUNC, &s);
    wb_u32(&s, 1 + nloops);
    wb_name(&s, "inc");
    WB(&s, K23VM_EXTERN_FUNC, (uint8_t)inc);
    for (uint32_t c = 0; c < nloops; c++) {
        char name[16];
        snprintf(name, sizeof name, "loop_%s", callee_name[c]);
        wb_name(&s, name);
        WB(&s, K23VM_EXTERN_FUNC, (uint8_t)(inc + 1 + c));
    }
    wb_sized(m, SEC_EXPORT, &s);
    wb_u32(&s, 1 + nloops);
    WB(&f, 0, LGET, 0, I32C, 1, I32ADD, END);
    wb_sized(&s, -1, &f);
    for (uint32_t c = 0; c < nloops; c++) {
        WB(&f, 1, 1, I32, LOOP, VOID, LGET, 1);
        if (c == C_NONE)
            WB(&f, I32C, 1, I32ADD);
        else
            WB(&f, CALL, (uint8_t)(c == C_WASM ? inc : (uint32_t)c - C_RAW));
        WB(&f, LSET, 1, LGET, 0, I32C, 1, I32SUB, LTEE, 0, BR_IF, 0, END, LGET, 1, END);
        wb_sized(&s, -1, &f);
    }
    wb_sized(m, SEC_CODE, &s);
    free(s.p);
    free(f.p);
}

/* ---- translation ------------------------------------------------------------------------------------ */

/* Size of the code section (id 10) of a module, from the section headers; 0 when there is none.
 * Only called on modules k23vm has accepted, but checked anyway. */
static size_t code_section_size(const uint8_t *b, size_t n)
{
    size_t i = 8;
    while (i < n) {
        uint8_t id = b[i++];
        uint64_t size = 0;
        for (unsigned shift = 0; i < n && shift < 35; shift += 7) {
            uint8_t c = b[i++];
            size |= (uint64_t)(c & 0x7f) << shift;
            if (!(c & 0x80)) break;
        }
        if (size > n - i) return 0;
        if (id == SEC_CODE) return (size_t)size;
        i += (size_t)size;
    }
    return 0;
}

typedef struct trans_row {
    const char *name;
    uint32_t nfuncs;
    size_t code_bytes, icode_bytes;
    int copies, runs;
    stat2 translate, validate; /* seconds per copy */
} trans_row;

/* Times translation of every defined function of copies of one module: `copies` freshly decoded
 * modules per run (translations are cached in the module, so a module is translated once), enough
 * copies that a run covers opt.min_mb bytes of code, as one small module takes microseconds. */
static bool bench_translate(k23vm_engine *e, const char *path, trans_row *row)
{
    const char *base = strrchr(path, '/');
    row->name = base ? base + 1 : path;
    size_t size;
    uint8_t *bytes = bench_read_file("micro_bench", path, &size);
    if (!bytes) return false;
    bool good = false;
    k23vm_module **mods = NULL;
    double *tt = NULL, *tv = NULL;
    k23vm_module *probe = NULL;
    if (!ok(k23vm_module_new(e, bytes, size, &probe), row->name)) goto done;
    row->nfuncs = probe->nfuncs - probe->nfunc_imports;
    k23vm_module_delete(probe);
    row->code_bytes = code_section_size(bytes, size);
    if (!row->code_bytes) {
        fail("%s: no code section", row->name);
        goto done;
    }
    double want = opt.min_mb / (double)row->code_bytes;
    row->copies = want < 1 ? 1 : want > 1000 ? 1000 : (int)(want + 0.5);
    mods = calloc((size_t)row->copies, sizeof *mods);
    tt = calloc((size_t)opt.runs, sizeof *tt);
    tv = calloc((size_t)opt.runs, sizeof *tv);
    if (!mods || !tt || !tv) {
        fail("out of memory");
        goto done;
    }
    int min_runs = opt.runs < 3 ? opt.runs : 3;
    double start = bench_now();
    for (row->runs = 0; row->runs < opt.runs && (row->runs < min_runs || bench_now() - start < opt.budget);) {
        for (int k = 0; k < row->copies; k++)
            if (!ok(k23vm_module_new(e, bytes, size, &mods[k]), row->name)) goto done;
        /* Validation alone (no sink) over the same functions: what the validator's pass inside
         * translation costs. The two alternate in order, so that neither always finds the module's
         * bytes in the cache where the other left them. */
        double tr = 0, va = 0;
        for (int pass = 0; pass < 2; pass++) {
            k23vm_error *err = NULL;
            bool translating = (pass == 0) == (row->runs % 2 == 0);
            double t0 = bench_now();
            for (int k = 0; k < row->copies && !err; k++)
                for (uint32_t i = 0; i < row->nfuncs && !err; i++) {
                    if (translating)
                        interp_code(mods[k], i, &err);
                    else
                        err = validate_func(mods[k], i, NULL);
                }
            *(translating ? &tr : &va) = bench_now() - t0;
            if (!ok(err, translating ? "interp_code" : "validate_func")) goto done;
        }
        if (row->runs == 0) {
            row->icode_bytes = 0;
            for (uint32_t i = 0; i < row->nfuncs; i++) row->icode_bytes += mods[0]->interp_code[i]->bytes;
        }
        for (int k = 0; k < row->copies; k++) {
            k23vm_module_delete(mods[k]);
            mods[k] = NULL;
        }
        tt[row->runs] = tr / row->copies;
        tv[row->runs] = va / row->copies;
        row->runs++;
    }
    row->translate = stats(tt, (size_t)row->runs);
    row->validate = stats(tv, (size_t)row->runs);
    good = true;
done:
    if (mods)
        for (int k = 0; k < row->copies; k++) k23vm_module_delete(mods[k]);
    free(mods);
    free(tt);
    free(tv);
    free(bytes);
    return good;
}

/* ---- instantiation ---------------------------------------------------------------------------------- */

typedef struct inst_row {
    k23vm_allocator_kind alloc;
    k23vm_bounds_mode bounds;
    stat2 store_new, instance_new, store_delete, total; /* seconds */
} inst_row;

/* The instance does what the module says: data in place, functions and globals working, the
 * mutable global at its initial value (a pool slot must not keep the last user's). Untimed. */
static bool check_instance(k23vm_store *s, k23vm_instance *inst)
{
    k23vm_extern x;
    k23vm_val arg = {.kind = K23VM_I32}, res;
    k23vm_trap *trap = NULL;
    if (!k23vm_instance_export(inst, "load", 4, &x) || x.kind != K23VM_EXTERN_FUNC) {
        fail("instantiation module: no export load");
        return false;
    }
    arg.of.i32 = 1024;
    k23vm_error *err = k23vm_func_call(s, x.of.func, &arg, 1, &res, 1, &trap);
    if (!call_ok(err, trap, "load")) return false;
    if (res.of.i32 != 0x12345678) {
        fail("instantiation module: load(1024) = %#x, expected 0x12345678", (unsigned)res.of.i32);
        return false;
    }
    if (!k23vm_instance_export(inst, "counter", 7, &x) || x.kind != K23VM_EXTERN_FUNC) {
        fail("instantiation module: no export counter");
        return false;
    }
    err = k23vm_func_call(s, x.of.func, NULL, 0, &res, 1, &trap);
    if (!call_ok(err, trap, "counter")) return false;
    if (!k23vm_instance_export(inst, "memory", 6, &x) || x.kind != K23VM_EXTERN_MEMORY) {
        fail("instantiation module: no export memory");
        return false;
    }
    const uint8_t *mem = k23vm_memory_data(x.of.memory);
    if (res.of.i32 != 1 || memcmp(mem, DATA0, sizeof DATA0 - 1) || memcmp(mem + 60000, DATA2, sizeof DATA2)) {
        fail("instantiation module: a fresh instance has the wrong globals or data");
        return false;
    }
    return true;
}

/* Untimed instantiations before the timed ones. */
static long inst_warmup(void) { return opt.iters / 10 < 100 ? opt.iters / 10 + 1 : 100; }

/* One iteration: k23vm_store_new, k23vm_instance_new and k23vm_store_delete (which frees the
 * instance: the API has no instance delete), each timed on its own clock readings into t[0..3),
 * and the instance checked in between, untimed. False after a failure (reported). */
static bool instantiate_once(k23vm_engine *e, const k23vm_module *m, double t[3])
{
    k23vm_store *s = NULL;
    k23vm_instance *inst = NULL;
    k23vm_trap *trap = NULL;
    double t0 = bench_now();
    k23vm_error *err = k23vm_store_new(e, NULL, &s);
    double t1 = bench_now();
    if (!err) err = k23vm_instance_new(s, m, NULL, 0, &inst, &trap);
    double t2 = bench_now();
    bool checked = err || trap || check_instance(s, inst);
    double t3 = bench_now();
    k23vm_store_delete(s);
    double t4 = bench_now();
    if (!call_ok(err, trap, "instantiation") || !checked) return false;
    t[0] = t1 - t0;
    t[1] = t2 - t1;
    t[2] = t4 - t3;
    return true;
}

/* The four configurations (rows[k].alloc and .bounds) take turns in blocks of INST_BLOCK
 * iterations, so that load on the machine falls on all of them alike. Blocks rather than single
 * iterations: switching configuration every iteration doubled the pooling allocator's time
 * (most likely the plain allocator's mapping and unmapping in between leaves caches and TLB cold),
 * and a program instantiating many times in a row does not work that way. The first iterations,
 * untimed, fault in the pools' slots and warm the allocators. */
enum { INST_BLOCK = 100 };
static bool bench_instantiate(const wbuf *mb, inst_row rows[4])
{
    k23vm_engine *e[4] = {0};
    k23vm_module *m[4] = {0};
    bool good = false;
    size_t n = (size_t)opt.iters;
    double *t = calloc(4 * 4 * n, sizeof *t); /* [config][store_new, instance_new, store_delete, sum][i] */
    if (!t) {
        fail("out of memory");
        goto done;
    }
    for (int c = 0; c < 4; c++) {
        k23vm_engine_config cfg;
        k23vm_engine_config_init(&cfg);
        cfg.allocator = rows[c].alloc;
        cfg.bounds = rows[c].bounds;
        if (!ok(k23vm_engine_new(&cfg, &e[c]), "engine") ||
            !ok(k23vm_module_new(e[c], mb->p, mb->len, &m[c]), "instantiation module"))
            goto done;
    }
    for (long k0 = -inst_warmup(); k0 < opt.iters; k0 += INST_BLOCK)
        for (int c = 0; c < 4; c++)
            for (long k = k0; k < k0 + INST_BLOCK && k < opt.iters; k++) {
                double x[3];
                if (!instantiate_once(e[c], m[c], x)) goto done;
                if (k < 0) continue;
                double *tc = t + (size_t)c * 4 * n;
                tc[(size_t)k] = x[0];
                tc[n + (size_t)k] = x[1];
                tc[2 * n + (size_t)k] = x[2];
                tc[3 * n + (size_t)k] = x[0] + x[1] + x[2];
            }
    for (int c = 0; c < 4; c++) {
        double *tc = t + (size_t)c * 4 * n;
        rows[c].store_new = stats(tc, n);
        rows[c].instance_new = stats(tc + n, n);
        rows[c].store_delete = stats(tc + 2 * n, n);
        rows[c].total = stats(tc + 3 * n, n);
    }
    good = true;
done:
    free(t);
    for (int c = 0; c < 4; c++) {
        k23vm_module_delete(m[c]);
        k23vm_engine_delete(e[c]);
    }
    return good;
}

/* ---- calls ------------------------------------------------------------------------------------------ */

static k23vm_trap *raw_inc(void *env, k23vm_caller *caller, k23vm_val *args_results, size_t nargs, size_t nresults)
{
    args_results[0].of.i32 += 1; /* the result's kind is the argument's: i32 */
    return NULL;
}

static k23vm_trap *typed_inc(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    results[0].of.i32 = args[0].of.i32 + 1;
    return NULL;
}

#ifdef K23VM_HAVE_FFI
static int32_t ffi_inc(int32_t x) { return x + 1; }
#endif

enum { H_API, H_EXEC, H_COUNT };

typedef struct call_row {
    stat2 host_to_wasm[H_COUNT]; /* ns per call */
    stat2 wasm_loop[C_COUNT];    /* ns per loop iteration */
} call_row;

/* One timed run of host->wasm calls: `calls` calls of inc, each result checked. ns per call, or
 * -1 after a failure (reported). */
static double run_host_to_wasm(k23vm_store *s, k23vm_func *inc, int how, long calls)
{
    double t0 = bench_now();
    for (int32_t j = 0; j < calls; j++) {
        int32_t got;
        if (how == H_API) {
            k23vm_val arg = {.kind = K23VM_I32, .of.i32 = j}, res;
            k23vm_trap *trap;
            k23vm_error *err = k23vm_func_call(s, inc, &arg, 1, &res, 1, &trap);
            if (!call_ok(err, trap, "inc")) return -1;
            got = res.of.i32;
        } else {
            slot a[1] = {(uint32_t)j};
            if (!call_ok(NULL, exec_call(s, inc, a), "inc (exec_call)")) return -1;
            got = (int32_t)(uint32_t)a[0];
        }
        if (got != j + 1) {
            fail("inc(%d) = %d", j, got);
            return -1;
        }
    }
    return (bench_now() - t0) / (double)calls * 1e9;
}

/* One timed run of wasm->host calls: one call of a loop of n iterations, its result checked. ns
 * per iteration, or -1 after a failure (reported). */
static double run_loop(k23vm_store *s, k23vm_func *loop, int callee, int32_t n)
{
    k23vm_val arg = {.kind = K23VM_I32, .of.i32 = n}, res;
    k23vm_trap *trap;
    double t0 = bench_now();
    k23vm_error *err = k23vm_func_call(s, loop, &arg, 1, &res, 1, &trap);
    double t1 = bench_now();
    if (!call_ok(err, trap, callee_name[callee])) return -1;
    if (res.of.i32 != n) {
        fail("loop_%s(%d) = %d", callee_name[callee], n, res.of.i32);
        return -1;
    }
    return (t1 - t0) / (double)n * 1e9;
}

static k23vm_func *export_func(k23vm_instance *inst, const char *name)
{
    k23vm_extern x;
    if (k23vm_instance_export(inst, name, strlen(name), &x) && x.kind == K23VM_EXTERN_FUNC) return x.of.func;
    fail("call module: no export %s", name);
    return NULL;
}

/* The call module instantiated in one bounds mode, with its host functions. */
typedef struct call_env {
    k23vm_engine *e;
    k23vm_module *m;
    k23vm_store *s;
    k23vm_func *inc, *loop[C_COUNT];
} call_env;

static bool call_env_init(call_env *ce, const wbuf *mb, k23vm_bounds_mode bounds)
{
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.bounds = bounds;
    static const k23vm_valkind i32 = K23VM_I32;
    const k23vm_functype ft = {1, 1, &i32, &i32};
    k23vm_extern imports[NIMPORTS];
    for (int i = 0; i < NIMPORTS; i++) imports[i].kind = K23VM_EXTERN_FUNC;
    if (!ok(k23vm_engine_new(&cfg, &ce->e), "engine") ||
        !ok(k23vm_module_new(ce->e, mb->p, mb->len, &ce->m), "call module") ||
        !ok(k23vm_store_new(ce->e, NULL, &ce->s), "store") ||
        !ok(k23vm_func_new(ce->s, &ft, raw_inc, NULL, NULL, &imports[C_RAW - C_RAW].of.func), "k23vm_func_new") ||
        !ok(k23vm_func_new_typed(ce->s, "i>i", typed_inc, NULL, NULL, &imports[C_TYPED - C_RAW].of.func),
            "k23vm_func_new_typed"))
        return false;
#ifdef K23VM_HAVE_FFI
    if (!ok(k23vm_func_new_ffi(ce->s, "i>i", (void (*)(void))ffi_inc, &imports[C_FFI - C_RAW].of.func),
            "k23vm_func_new_ffi"))
        return false;
#endif
    k23vm_instance *inst = NULL;
    k23vm_trap *trap = NULL;
    k23vm_error *err = k23vm_instance_new(ce->s, ce->m, imports, NIMPORTS, &inst, &trap);
    if (!call_ok(err, trap, "call module instance") || !(ce->inc = export_func(inst, "inc"))) return false;
    for (int c = 0; c < C_RAW + NIMPORTS; c++) {
        char name[16];
        snprintf(name, sizeof name, "loop_%s", callee_name[c]);
        if (!(ce->loop[c] = export_func(inst, name))) return false;
    }
    return true;
}

/* Every call measurement, in both bounds modes, interleaved: each round runs each measurement once,
 * so that a stretch of load on the machine spreads over all of them instead of spoiling one. */
static bool bench_calls(const wbuf *mb, call_row rows[2])
{
    enum { PER_MODE = H_COUNT + C_COUNT };
    static const k23vm_bounds_mode bounds[2] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    call_env env[2];
    memset(env, 0, sizeof env);
    size_t runs = (size_t)opt.runs;
    double *t = calloc(2 * PER_MODE * runs, sizeof *t);
    bool good = false;
    if (!t) {
        fail("out of memory");
        goto done;
    }
    for (int b = 0; b < 2; b++)
        if (!call_env_init(&env[b], mb, bounds[b])) goto done;
    int nmeasure = H_COUNT + C_RAW + NIMPORTS;
    for (int r = -1; r < opt.runs; r++) /* round -1: a shorter warm-up round, untimed */
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < nmeasure; k++) {
                double x;
                if (k < H_COUNT)
                    x = run_host_to_wasm(env[b].s, env[b].inc, k, r < 0 ? opt.batch / 10 + 1 : opt.batch);
                else
                    x = run_loop(env[b].s, env[b].loop[k - H_COUNT], k - H_COUNT,
                                 (int32_t)(r < 0 ? opt.loop_n / 10 + 1 : opt.loop_n));
                if (x < 0) goto done;
                if (r >= 0) t[((size_t)b * PER_MODE + (size_t)k) * runs + (size_t)r] = x;
            }
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < nmeasure; k++) {
            stat2 st = stats(t + ((size_t)b * PER_MODE + (size_t)k) * runs, runs);
            if (k < H_COUNT)
                rows[b].host_to_wasm[k] = st;
            else
                rows[b].wasm_loop[k - H_COUNT] = st;
        }
    good = true;
done:
    for (int b = 0; b < 2; b++) {
        k23vm_store_delete(env[b].s);
        k23vm_module_delete(env[b].m);
        k23vm_engine_delete(env[b].e);
    }
    free(t);
    return good;
}

/* ---- the report ------------------------------------------------------------------------------------- */

static void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || !fgets(buf, (int)n, f)) snprintf(buf, n, "unknown");
    if (f) fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

/* The clock's own cost: the median gap between consecutive readings. */
static double clock_cost_ns(void)
{
    enum { N = 10001 };
    static double t[N];
    double prev = bench_now();
    for (int i = 0; i < N; i++) {
        double x = bench_now();
        t[i] = x - prev;
        prev = x;
    }
    return stats(t, N).median * 1e9;
}

/* The build's demo module, ../examples/demo.wasm from this program's directory, when it is there. */
static char *find_demo(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0) return NULL;
    path[n] = 0;
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(path, '/');
        if (!slash) return NULL;
        *slash = 0;
    }
    strcat(path, "/examples/demo.wasm");
    return access(path, R_OK) == 0 ? path : NULL;
}

static const char *alloc_name(k23vm_allocator_kind a) { return a == K23VM_ALLOCATOR_POOLING ? "pooling" : "plain"; }
static const char *bounds_name(k23vm_bounds_mode b) { return b == K23VM_BOUNDS_GUARD ? "guard" : "explicit"; }

static void usage(void)
{
    fprintf(stderr, "usage: micro_bench [-n RUNS] [-i ITERS] [-t SECONDS] [--quick] [FILE...]\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            opt.runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-i") && i + 1 < argc)
            opt.iters = atol(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            opt.budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) {
            opt.quick = true;
            opt.runs = 2;
            opt.iters = 20;
            opt.budget = 1;
            opt.batch = 1000;
            opt.loop_n = 1000;
            opt.min_mb = 0;
        } else {
            usage();
            return 2;
        }
    }
    if (opt.runs < 1 || opt.iters < 1) {
        usage();
        return 2;
    }
    const char *files[64];
    int nfiles = 0;
    bool have_demo = false;
    for (; i < argc; i++) {
        if (nfiles == 64) {
            usage();
            return 2;
        }
        const char *base = strrchr(argv[i], '/');
        have_demo |= !strcmp(base ? base + 1 : argv[i], "demo.wasm");
        files[nfiles++] = argv[i];
    }
    const char *demo = have_demo ? NULL : find_demo();
    if (demo && nfiles < 64) files[nfiles++] = demo;

    int status = 1;
    char load_start[128], load_end[128];
    loadavg(load_start, sizeof load_start);
    wbuf inst_mod = {0}, call_mod = {0};
    build_inst_module(&inst_mod);
    build_call_module(&call_mod);
    trans_row trows[64];
    inst_row irows[4];
    call_row crows[2];
    k23vm_engine *e = NULL;
    if (inst_mod.oom || call_mod.oom) {
        fail("out of memory");
        goto out;
    }
    double clock_ns = clock_cost_ns();

    if (!ok(k23vm_engine_new(NULL, &e), "engine")) goto out;
    for (int f = 0; f < nfiles; f++)
        if (!bench_translate(e, files[f], &trows[f])) goto out;
    static const k23vm_allocator_kind allocs[2] = {K23VM_ALLOCATOR_PLAIN, K23VM_ALLOCATOR_POOLING};
    static const k23vm_bounds_mode bounds[2] = {K23VM_BOUNDS_GUARD, K23VM_BOUNDS_EXPLICIT};
    for (int k = 0; k < 4; k++) {
        irows[k].alloc = allocs[k / 2];
        irows[k].bounds = bounds[k % 2];
    }
    if (!bench_instantiate(&inst_mod, irows)) goto out;
    if (!bench_calls(&call_mod, crows)) goto out;
    loadavg(load_end, sizeof load_end);

    /* ---- print ---- */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("Machine load (/proc/loadavg): `%s` at the start, `%s` at the end; %ld CPUs online.%s\n", load_start,
           load_end, ncpu, opt.quick ? " **--quick: a smoke test, the figures mean nothing.**" : "");
    printf("Every figure: best and median of the runs named, nothing subtracted; CLOCK_MONOTONIC, whose own "
           "reading costs %.0f ns (median gap between two readings).\n\n",
           clock_ns);

    printf("### Interpreter translation\n\n");
    printf("Timed: `interp_code(module, i, &err)` for every defined function i of a freshly decoded module "
           "(decoding not timed; translations are cached in the module), which translates it; MB/s = code "
           "section bytes / time (1 MB = 10^6 bytes). The time includes a second validation pass of every "
           "body: translation runs the validator with the translator as its sink (`validate_func(m, i, "
           "&sink)`). \"validate only\" times that pass alone, `validate_func(m, i, NULL)` over the same "
           "functions. A small module is translated as several copies per run, so that a run lasts long "
           "enough to time; times are per copy. \"icode/byte\": bytes of internal code (headers and position "
           "tables included) per byte of code section.\n\n");
    printf("| module | functions | code bytes | copies x runs | translate best MB/s | median MB/s | best ms "
           "| validate only best MB/s | median MB/s | icode/byte |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int f = 0; f < nfiles; f++) {
        const trans_row *r = &trows[f];
        double mb = (double)r->code_bytes / 1e6;
        printf("| %s | %u | %zu | %d x %d | %.1f | %.1f | %.3f | %.1f | %.1f | %.1f |\n", r->name, r->nfuncs,
               r->code_bytes, r->copies, r->runs, mb / r->translate.best, mb / r->translate.median,
               r->translate.best * 1e3, mb / r->validate.best, mb / r->validate.median,
               (double)r->icode_bytes / (double)r->code_bytes);
    }
    if (!nfiles) printf("| (no module given) | | | | | | | | | |\n");

    printf("\n### Instantiation\n\n");
    printf("Module (built in the program, %zu bytes): one memory of 1 page (no maximum), 3 data segments "
           "(32, 64 and 16 bytes), 3 globals, 3 functions, 4 exports, no imports. Timed separately in each of "
           "%ld iterations (after %ld untimed): `k23vm_store_new`, `k23vm_instance_new`, and "
           "`k23vm_store_delete`, which frees the instance (the API has no instance delete). \"sum\" is the "
           "three added per iteration. Each instance is checked (data, globals, calls) after `k23vm_instance_new`, "
           "untimed. The four configurations take turns, %d iterations each. Default pool sizes and store "
           "limits. In µs.\n\n",
           inst_mod.len, opt.iters, inst_warmup(), INST_BLOCK);
    printf("| allocator | bounds | instance_new median | best | store_new median | best | store_delete median "
           "| best | sum median | best |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int k = 0; k < 4; k++) {
        const inst_row *r = &irows[k];
        printf("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", alloc_name(r->alloc),
               bounds_name(r->bounds), r->instance_new.median * 1e6, r->instance_new.best * 1e6,
               r->store_new.median * 1e6, r->store_new.best * 1e6, r->store_delete.median * 1e6,
               r->store_delete.best * 1e6, r->total.median * 1e6, r->total.best * 1e6);
    }

    printf("\nIssue 5's target, instantiation of a small module with one memory under 10 µs with the pooling "
           "allocator: `k23vm_instance_new` median %.2f µs (guard) and %.2f µs (explicit); with the store made "
           "and deleted around it, %.2f and %.2f µs.\n",
           irows[2].instance_new.median * 1e6, irows[3].instance_new.median * 1e6, irows[2].total.median * 1e6,
           irows[3].total.median * 1e6);

    printf("\n### Calls\n\n");
    printf("host->wasm: %d runs of %ld calls of the export `inc` (`(i32) -> i32`, returns its argument + 1), "
           "each result checked; ns per call = run time / calls. `k23vm_func_call` is the API's only way to "
           "call (it has no typed or unchecked fast path); `exec_call` is the internal entry that "
           "`k23vm_func_call` wraps (slots in and out, no argument checks or value conversion), timed for "
           "comparison and not public.\n\n",
           opt.runs, opt.batch);
    printf("wasm->host: %d runs of one `k23vm_func_call` of a wasm loop of %ld iterations, each calling the "
           "callee `(i32) -> i32` (argument + 1) with the loop's accumulator; ns per iteration = run time / "
           "iterations. \"no call\" is the same loop doing `i32.const 1; i32.add` instead of the call. All rows "
           "of this table, in both bounds modes, take turns: each round (after a shorter warm-up round) runs "
           "each once.\n\n",
           opt.runs, opt.loop_n);
    printf("| call | guard: best ns | median ns | explicit: best ns | median ns |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    static const char *const hname[H_COUNT] = {"host->wasm `k23vm_func_call`",
                                               "host->wasm `exec_call` (internal)"};
    for (int h = 0; h < H_COUNT; h++)
        printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", hname[h], crows[0].host_to_wasm[h].best,
               crows[0].host_to_wasm[h].median, crows[1].host_to_wasm[h].best, crows[1].host_to_wasm[h].median);
    static const char *const cname[C_COUNT] = {
        "wasm loop, no call", "wasm->wasm (`call` of a wasm function)", "wasm->host raw (`k23vm_func_new`)",
        "wasm->host typed (`k23vm_func_new_typed`)", "wasm->host libffi (`k23vm_func_new_ffi`)"};
    for (int c = 0; c < C_RAW + NIMPORTS; c++)
        printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", cname[c], crows[0].wasm_loop[c].best,
               crows[0].wasm_loop[c].median, crows[1].wasm_loop[c].best, crows[1].wasm_loop[c].median);
    if (NIMPORTS < 3) printf("\n(no libffi in this build: `k23vm_func_new_ffi` not measured)\n");
    status = 0;
out:
    k23vm_engine_delete(e);
    free(inst_mod.p);
    free(call_mod.p);
    return status;
}
