/* interp-prof.c - k23vm-interp-prof: runs a wasm program under the interpreter of a profile build
 * (CMake -DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON) and prints which internal
 * instructions, and which pairs of them, it dispatched; optionally the translated code. The
 * measurements behind the interpreter's superinstructions (issue 5; tools/interp-prof/README.md).
 *
 *   k23vm-interp-prof [OPTIONS] FILE [ARGS...]    run FILE, print the profile
 *   k23vm-interp-prof report [--top N] [--per K] [--title T] [--real] NAME=COUNTS ...
 *                                                 a markdown report from saved counts
 *
 * FILE is run as a WASI command (its _start, ARGS as argv[1..]) when it exports _start, else its
 * export `run` (no parameters) is called, as the bench programs' freestanding builds have it;
 * --invoke NAME picks another parameterless export. The module may import WASI
 * (wasi_snapshot_preview1) and env.print(ptr, len) (examples/guest/demo.c).
 *
 * Everything here goes through the public API and WASI library, except the counters and the
 * code, which src/interp/debug.h exposes read-only. A hosted program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"
#include "k23vm.h"
#include "k23vm/wasi.h"

static const char *prog = "k23vm-interp-prof";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [OPTIONS] FILE [ARGS...]\n"
            "       %s report [--top N] [--per K] [--title TEXT] NAME=COUNTS... [--real NAME=COUNTS...]\n"
            "\n"
            "Runs FILE under k23vm's interpreter (its _start as a WASI command with ARGS, else its\n"
            "export run) and prints the most frequent internal instruction pairs and instructions.\n"
            "Needs a build with -DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON.\n"
            "\n"
            "options:\n"
            "  --top N            pairs and instructions to list (default 30)\n"
            "  --dump             also print the translated code of every function that ran\n"
            "  --invoke NAME      call the parameterless export NAME instead\n"
            "  --dir HOST[::GUEST]  preopen a directory for the guest (repeatable)\n"
            "  --bounds guard|explicit  bounds-check mode (default: the engine's)\n"
            "  --counts FILE      write every pair count to FILE (input of `report`)\n"
            "  -o FILE            write the profile (and dump) to FILE instead of standard output\n"
            "\n"
            "report: reads COUNTS files and writes markdown to standard output: the top pairs and\n"
            "instructions over the programs before --real (each program weighted equally: shares\n"
            "of its own dispatches, averaged; also with accumulator and back-edge variants\n"
            "merged), over those after it, and each program's top K pairs (--per, default 10).\n",
            prog, prog);
}

/* ---- reading files -------------------------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "%s: %s: out of memory\n", prog, path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        if (n == 0) break;
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: %s: read error\n", prog, path);
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

/* ---- profile tables ------------------------------------------------------------------------------- */

/* The pseudo-instruction that row 0 of the profile stands for (debug.h). */
static const char *iop_label(unsigned op)
{
    if (op == 0) return "(entry)";
    const char *n = interp_debug_iop_name(op);
    return n ? n : "?";
}

typedef struct pair_count {
    unsigned prev, op;
    uint64_t count;
} pair_count;

static int by_count_desc(const void *a, const void *b)
{
    const pair_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    if (x->prev != y->prev) return x->prev < y->prev ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

/* The non-zero pairs of a profile, most frequent first; *total gets the sum of all. */
static pair_count *nonzero_pairs(const uint64_t *prof, unsigned n, size_t *npairs, uint64_t *total)
{
    size_t k = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < (size_t)n * n; i++)
        if (prof[i]) k++, sum += prof[i];
    pair_count *v = malloc((k + 1) * sizeof *v);
    if (!v) return NULL;
    k = 0;
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++)
            if (prof[(size_t)a * n + b]) v[k++] = (pair_count){a, b, prof[(size_t)a * n + b]};
    qsort(v, k, sizeof *v, by_count_desc);
    *npairs = k;
    *total = sum;
    return v;
}

static void print_profile(FILE *out, const uint64_t *prof, unsigned n, unsigned top)
{
    size_t npairs;
    uint64_t total;
    pair_count *pairs = nonzero_pairs(prof, n, &npairs, &total);
    if (!pairs) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return;
    }
    fprintf(out, "%" PRIu64 " dispatches, %zu distinct instruction pairs\n\n", total, npairs);
    if (!total) {
        free(pairs);
        return;
    }

    fprintf(out, "top %u instruction pairs (first -> second; (entry): the first instruction of an activation)\n",
            top);
    fprintf(out, "%5s  %14s  %7s  %7s  %s\n", "rank", "count", "share", "cumul", "pair");
    double cum = 0;
    for (size_t i = 0; i < npairs && i < top; i++) {
        double share = 100.0 * (double)pairs[i].count / (double)total;
        cum += share;
        fprintf(out, "%5zu  %14" PRIu64 "  %6.2f%%  %6.2f%%  %s -> %s\n", i + 1, pairs[i].count, share, cum,
                iop_label(pairs[i].prev), iop_label(pairs[i].op));
    }

    /* Single instructions: a column of the pair table summed over the previous instruction. */
    pair_count *single = calloc(n, sizeof *single);
    if (!single) {
        free(pairs);
        return;
    }
    for (unsigned b = 0; b < n; b++) {
        single[b].op = b;
        for (unsigned a = 0; a < n; a++) single[b].count += prof[(size_t)a * n + b];
    }
    qsort(single, n, sizeof *single, by_count_desc);
    fprintf(out, "\ntop %u instructions\n", top);
    fprintf(out, "%5s  %14s  %7s  %7s  %s\n", "rank", "count", "share", "cumul", "instruction");
    cum = 0;
    for (unsigned i = 0; i < n && i < top && single[i].count; i++) {
        double share = 100.0 * (double)single[i].count / (double)total;
        cum += share;
        fprintf(out, "%5u  %14" PRIu64 "  %6.2f%%  %6.2f%%  %s\n", i + 1, single[i].count, share, cum,
                iop_label(single[i].op));
    }
    free(single);
    free(pairs);
}

/* Every non-zero count, one "first second count" line each, by name, so that a file stays
 * readable by a build whose opcode numbers differ. */
static int write_counts(const char *path, const char *file, const uint64_t *prof, unsigned n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    fprintf(f, "# k23vm-interp-prof pair counts of %s: first second count\n", file);
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++)
            if (prof[(size_t)a * n + b])
                fprintf(f, "%s %s %" PRIu64 "\n", iop_label(a), iop_label(b), prof[(size_t)a * n + b]);
    if (fclose(f) != 0) {
        fprintf(stderr, "%s: %s: write error\n", prog, path);
        return -1;
    }
    return 0;
}

/* ---- the code dump -------------------------------------------------------------------------------- */

/* Whether the last operand of instruction `name` is a branch displacement: by iops.def's naming,
 * the branches are x_br, x_br_b and every br_* (br_nz, br_z and the compare-and-branch forms), and
 * each ends with its displacement. x_br_table has its own layout. */
static bool ends_in_branch(const char *name)
{
    return !strncmp(name, "br_", 3) || !strcmp(name, "x_br") || !strcmp(name, "x_br_b");
}

static void dump_code(FILE *out, const k23vm_module *m)
{
    uint32_t nfuncs = interp_debug_func_count(m), ntranslated = 0;
    for (uint32_t d = 0; d < nfuncs; d++) {
        interp_debug_func fi;
        if (!interp_debug_func_info(m, d, &fi)) continue;
        ntranslated++;
        k23vm_name name = {"(no name)", 9};
        if (!k23vm_module_func_name(m, fi.funcidx, &name) || !name.len) name = (k23vm_name){"(no name)", 9};
        fprintf(out, "\nfunc %" PRIu32 " %.*s: %" PRIu32 " param slots, %" PRIu32 " local slots, frame %" PRIu32
                     " slots, %" PRIu32 " result slots, %zu words\n",
                fi.funcidx, (int)name.len, name.ptr, fi.param_slots, fi.local_slots,
                fi.frame_slots, fi.result_slots, fi.nwords);
        interp_debug_insn in;
        for (size_t w = 0; interp_debug_insn_at(m, d, w, &in); w += in.words) {
            const char *iname = interp_debug_iop_name(in.op);
            if (!iname) {
                fprintf(out, "  %6zu  (not a handler word)\n", w);
                continue;
            }
            fprintf(out, "  %6zu  %-24s", w, iname);
            /* Operands as 32-bit values; those with the top bit set as negative numbers, which is
             * what backward displacements and small negative immediates are. */
            for (uint32_t k = 0; k < in.nopnd; k++) {
                uint32_t v = in.opnd[k];
                if (v >= 0x80000000u) fprintf(out, "%s%" PRId32, k ? ", " : " ", (int32_t)v);
                else fprintf(out, "%s%" PRIu32, k ? ", " : " ", v);
            }
            if (ends_in_branch(iname) && in.nopnd)
                fprintf(out, "   -> %zd", (ssize_t)w + (int32_t)in.opnd[in.nopnd - 1]);
            else if (!strcmp(iname, "x_br_table"))
                for (uint32_t k = 2; k < in.nopnd; k++)
                    fprintf(out, "%s%zd", k == 2 ? "   -> " : " ", (ssize_t)w + (int32_t)in.opnd[k]);
            if (in.offset != SIZE_MAX) fprintf(out, "   @0x%zx", in.offset);
            fputc('\n', out);
        }
    }
    fprintf(out, "\n%" PRIu32 " of %" PRIu32 " functions translated\n", ntranslated, nfuncs);
}

/* ---- running the program -------------------------------------------------------------------------- */

/* env.print(ptr, len): the guest's bytes to standard output (examples/guest/demo.c's one import). */
static k23vm_trap *env_print(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    (void)env;
    (void)results;
    k23vm_memory *memory = k23vm_caller_memory(caller);
    uint32_t ptr = (uint32_t)args[0].of.i32, len = (uint32_t)args[1].of.i32;
    if (!memory || (uint64_t)ptr + len > k23vm_memory_data_size(memory))
        return k23vm_trap_new(k23vm_caller_store(caller), "env.print: text out of bounds");
    fwrite(k23vm_memory_data(memory) + ptr, 1, len, stdout);
    return NULL;
}

static void print_trap(const char *file, k23vm_trap *trap)
{
    fprintf(stderr, "%s: %s: trap: %s\n", prog, file, k23vm_trap_message(trap));
    size_t n = k23vm_trap_frame_count(trap);
    for (size_t i = 0; i < n; i++) {
        k23vm_frame fr;
        if (!k23vm_trap_frame(trap, i, &fr)) break;
        fprintf(stderr, "  #%zu func %" PRIu32 " %.*s\n", i, fr.funcidx, (int)fr.func_name.len, fr.func_name.ptr);
    }
}

typedef struct opts {
    unsigned top;
    bool dump;
    const char *invoke, *counts, *out;
    k23vm_bounds_mode bounds;
    const char **dirs;
    size_t ndirs;
    const char *file;
    int nargs;
    char **args;
} opts;

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 100000) return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 30;
    o->dirs = calloc((size_t)argc, sizeof *o->dirs);
    if (!o->dirs) return 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--dump")) {
            o->dump = true;
        } else if (!strcmp(a, "--top") && has) {
            if (parse_uint(argv[++i], &o->top)) return 2;
        } else if (!strcmp(a, "--invoke") && has) {
            o->invoke = argv[++i];
        } else if (!strcmp(a, "--counts") && has) {
            o->counts = argv[++i];
        } else if (!strcmp(a, "-o") && has) {
            o->out = argv[++i];
        } else if (!strcmp(a, "--dir") && has) {
            o->dirs[o->ndirs++] = argv[++i];
        } else if (!strcmp(a, "--bounds") && has) {
            const char *b = argv[++i];
            if (!strcmp(b, "guard")) o->bounds = K23VM_BOUNDS_GUARD;
            else if (!strcmp(b, "explicit")) o->bounds = K23VM_BOUNDS_EXPLICIT;
            else return 2;
        } else {
            return 2;
        }
    }
    if (i >= argc) return 2;
    o->file = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return 0;
}

static int cmd_profile(int argc, char **argv)
{
    opts o;
    int status = parse_opts(argc, argv, &o);
    if (status) {
        if (status == 2) usage(stderr);
        free(o.dirs);
        return status;
    }
    status = 1;
    k23vm_engine *engine = NULL;
    k23vm_module *module = NULL;
    k23vm_store *store = NULL;
    k23vm_linker *linker = NULL;
    k23vm_wasi *wasi = NULL;
    k23vm_wasi_preopen *pre = NULL;
    const char **gargv = NULL;
    uint8_t *bytes = NULL;
    k23vm_error *err = NULL;
    k23vm_trap *trap = NULL;
    FILE *out = stdout;
    const char *entry = NULL; /* the export called; NULL while instantiating */
    const uint64_t *prof = interp_debug_profile();
    unsigned n = interp_debug_iop_count();

    if (!prof) {
        fprintf(stderr, "%s: this build does not count instruction pairs: configure with "
                        "-DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON\n", prog);
        goto out;
    }
    if (o.out && !(out = fopen(o.out, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, o.out, strerror(errno));
        out = stdout;
        goto out;
    }

    k23vm_engine_config ecfg;
    k23vm_engine_config_init(&ecfg);
    ecfg.mode = K23VM_MODE_INTERP;
    ecfg.bounds = o.bounds;
    size_t size;
    if ((err = k23vm_engine_new(&ecfg, &engine))) goto failed;
    if (!(bytes = slurp(o.file, &size))) goto out;
    if ((err = k23vm_module_new(engine, bytes, size, &module))) goto failed;

    pre = calloc(o.ndirs + 1, sizeof *pre);
    gargv = calloc((size_t)o.nargs + 2, sizeof *gargv);
    if (!pre || !gargv) goto oom;
    for (size_t i = 0; i < o.ndirs; i++) {
        char *d = strdup(o.dirs[i]);
        if (!d) goto oom;
        char *sep = strstr(d, "::");
        if (sep) *sep = 0;
        pre[i].host_path = d;
        pre[i].guest_path = sep ? sep + 2 : d;
    }
    gargv[0] = o.file;
    for (int i = 0; i < o.nargs; i++) gargv[i + 1] = o.args[i];
    k23vm_wasi_config wcfg;
    k23vm_wasi_config_init(&wcfg);
    wcfg.argc = (size_t)o.nargs + 1;
    wcfg.argv = gargv;
    wcfg.npreopens = o.ndirs;
    wcfg.preopens = pre;
    if ((err = k23vm_wasi_new(&wcfg, &wasi))) goto failed;
    if ((err = k23vm_store_new(engine, NULL, &store))) goto failed;
    if ((err = k23vm_linker_new(engine, &linker)) || (err = k23vm_wasi_define(wasi, linker, store))) goto failed;
    k23vm_extern print = {.kind = K23VM_EXTERN_FUNC};
    if ((err = k23vm_func_new_typed(store, "ii", env_print, NULL, NULL, &print.of.func)) ||
        (err = k23vm_linker_define(linker, "env", 3, "print", 5, &print)))
        goto failed;

    /* The profile counts from here: instantiation (a start function) and the run. */
    interp_debug_profile_reset();
    k23vm_instance *inst = NULL;
    if ((err = k23vm_linker_instantiate(linker, store, module, &inst, &trap))) {
        if (trap) goto trapped;
        goto failed;
    }
    entry = o.invoke;
    k23vm_extern ext;
    if (!entry) entry = k23vm_instance_export(inst, "_start", 6, &ext) ? "_start" : "run";
    if (!k23vm_instance_export(inst, entry, strlen(entry), &ext) || ext.kind != K23VM_EXTERN_FUNC) {
        fprintf(stderr, "%s: %s: no exported function %s%s\n", prog, o.file, entry,
                o.invoke ? "" : " (nor _start)");
        goto out;
    }
    const k23vm_functype *ft = k23vm_func_type(ext.of.func);
    if (ft->nparams) {
        fprintf(stderr, "%s: %s: %s takes parameters; only parameterless entries run here\n", prog, o.file, entry);
        goto out;
    }
    k23vm_val results[16];
    size_t nres = ft->nresults < 16 ? ft->nresults : 16;
    if ((err = k23vm_func_call(store, ext.of.func, NULL, 0, results, nres, &trap))) goto failed;
    fflush(stdout);
    if (trap) goto trapped;
    /* The result (a bench program's checksum) goes with the profile: standard output is the
     * guest's. */
    fprintf(out, "%s: %s: %s()", prog, o.file, entry);
    for (size_t i = 0; i < nres; i++) {
        if (results[i].kind == K23VM_I32) fprintf(out, "%s%" PRIu32, i ? ", " : " = ", (uint32_t)results[i].of.i32);
        else if (results[i].kind == K23VM_I64) fprintf(out, "%s%" PRIu64, i ? ", " : " = ", (uint64_t)results[i].of.i64);
    }
    fputc('\n', out);
    status = 0;
    goto report;

trapped: {
    int code;
    fflush(stdout);
    if (k23vm_wasi_exit_code(wasi, &code)) {
        status = code;
        fprintf(out, "%s: %s: %s exited with code %d\n", prog, o.file, entry ? entry : "the start function", code);
    } else {
        print_trap(o.file, trap);
        status = 1;
    }
}
report:
    /* A trapping program is still profiled up to the trap. */
    print_profile(out, prof, n, o.top);
    if (o.dump) dump_code(out, module);
    if (o.counts && write_counts(o.counts, o.file, prof, n)) status = 1;
    goto out;

oom:
    fprintf(stderr, "%s: out of memory\n", prog);
    goto out;
failed:
    fprintf(stderr, "%s: %s: %s\n", prog, o.file, k23vm_error_message(err));
out:
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: write error\n", prog, o.out);
        status = 1;
    }
    k23vm_trap_delete(trap);
    k23vm_error_delete(err);
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_wasi_delete(wasi);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    if (pre)
        for (size_t i = 0; i < o.ndirs; i++) free((char *)pre[i].host_path);
    free(pre);
    free(gargv);
    free(o.dirs);
    return status;
}

/* ---- the report ----------------------------------------------------------------------------------- */

/* Internal opcode by name, for reading counts files: names sorted once, then binary search. */
typedef struct named_op {
    const char *name;
    unsigned op;
} named_op;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_op *)a)->name, ((const named_op *)b)->name);
}

typedef struct program {
    const char *name, *path;
    bool real;
    pair_count *pairs; /* most frequent first */
    size_t npairs;
    uint64_t total;
} program;

static int read_counts(program *p, const named_op *index, unsigned n)
{
    FILE *f = fopen(p->path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", prog, p->path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    char line[512];
    int lineno = 0, status = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char a[128], b[128];
        uint64_t count;
        if (sscanf(line, "%127s %127s %" SCNu64, a, b, &count) != 3) {
            fprintf(stderr, "%s: %s:%d: not 'first second count'\n", prog, p->path, lineno);
            status = -1;
            break;
        }
        named_op ka = {a, 0}, kb = {b, 0};
        const named_op *x = bsearch(&ka, index, n, sizeof *index, by_name);
        const named_op *y = bsearch(&kb, index, n, sizeof *index, by_name);
        if (!x || !y) {
            /* Counts taken by a build with other instructions: say so rather than guess. */
            fprintf(stderr, "%s: %s:%d: unknown instruction %s\n", prog, p->path, lineno, x ? b : a);
            status = -1;
            break;
        }
        if (p->npairs == cap) {
            cap = cap ? 2 * cap : 1024;
            pair_count *np = realloc(p->pairs, cap * sizeof *np);
            if (!np) {
                fprintf(stderr, "%s: out of memory\n", prog);
                status = -1;
                break;
            }
            p->pairs = np;
        }
        p->pairs[p->npairs++] = (pair_count){x->op, y->op, count};
        p->total += count;
    }
    fclose(f);
    if (!status && !p->total) {
        fprintf(stderr, "%s: %s: no counts\n", prog, p->path);
        status = -1;
    }
    if (!status) qsort(p->pairs, p->npairs, sizeof *p->pairs, by_count_desc);
    return status;
}

/* An aggregated entry: the mean over the group's programs of its share of their dispatches. */
typedef struct agg {
    unsigned prev, op; /* op only, for single instructions */
    double mean;
    double max;      /* the largest share in one program */
    size_t max_prog; /* that program */
    unsigned over1;  /* programs in which its share is at least 1% */
} agg;

static int by_mean_desc(const void *a, const void *b)
{
    const agg *x = a, *y = b;
    if (x->mean != y->mean) return x->mean < y->mean ? 1 : -1;
    if (x->prev != y->prev) return x->prev < y->prev ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

/* Variants merged: an instruction's name without the suffixes that iops.def gives its accumulator
 * forms (_a, _a1, _a2: an operand from the accumulator; _v: a stored value from it) and back-edge
 * forms (_b), in any order ("br_i32_lt_s_ri_a_b", "br_nz_b_a"). A superinstruction is chosen for
 * the operations it fuses; which of these variants the translator then picks is its own affair,
 * and split over them a common pair can look rare. */
typedef struct merged {
    unsigned *cls;   /* per opcode: the first opcode with the same base name */
    char (*base)[128];
} merged;

static void base_name(const char *name, char *out, size_t cap)
{
    static const char *const suffixes[] = {"_a", "_a1", "_a2", "_v", "_b"};
    snprintf(out, cap, "%s", name);
    for (bool again = true; again;) {
        again = false;
        size_t len = strlen(out);
        for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
            size_t sl = strlen(suffixes[i]);
            if (len > sl && !strcmp(out + len - sl, suffixes[i])) {
                out[len - sl] = 0;
                again = true;
                break;
            }
        }
    }
}

static int merged_init(merged *mg, unsigned n)
{
    mg->cls = calloc(n, sizeof *mg->cls);
    mg->base = calloc(n, sizeof *mg->base);
    if (!mg->cls || !mg->base) return -1;
    for (unsigned op = 0; op < n; op++) {
        base_name(iop_label(op), mg->base[op], sizeof mg->base[op]);
        mg->cls[op] = op;
        for (unsigned e = 0; e < op; e++)
            if (!strcmp(mg->base[e], mg->base[op])) {
                mg->cls[op] = e;
                break;
            }
    }
    return 0;
}

/* Aggregates the pairs (singles false) or the instructions (true) of the programs of one group,
 * with variants merged when mg is not NULL; returns the entries with a non-zero mean, sorted, and
 * their number in *nout. */
static agg *aggregate(const program *ps, size_t np, bool real, bool singles, const merged *mg, unsigned n,
                      size_t *nout)
{
    size_t cells = singles ? n : (size_t)n * n;
    agg *a = calloc(cells, sizeof *a);
    if (!a) return NULL;
    size_t members = 0;
    for (size_t i = 0; i < np; i++) members += ps[i].real == real;
    for (size_t c = 0; c < cells; c++) {
        a[c].prev = singles ? 0 : (unsigned)(c / n);
        a[c].op = (unsigned)(singles ? c : c % n);
    }
    double *share = calloc(cells, sizeof *share);
    if (!share) {
        free(a);
        return NULL;
    }
    for (size_t i = 0; i < np; i++) {
        if (ps[i].real != real) continue;
        memset(share, 0, cells * sizeof *share);
        for (size_t k = 0; k < ps[i].npairs; k++) {
            const pair_count *pc = &ps[i].pairs[k];
            unsigned prev = mg ? mg->cls[pc->prev] : pc->prev, op = mg ? mg->cls[pc->op] : pc->op;
            size_t c = singles ? op : (size_t)prev * n + op;
            share[c] += (double)pc->count / (double)ps[i].total;
        }
        for (size_t c = 0; c < cells; c++) {
            if (!share[c]) continue;
            a[c].mean += share[c] / (double)members;
            if (share[c] > a[c].max) a[c].max = share[c], a[c].max_prog = i;
            if (share[c] >= 0.01) a[c].over1++;
        }
    }
    free(share);
    qsort(a, cells, sizeof *a, by_mean_desc);
    size_t k = 0;
    while (k < cells && a[k].mean > 0) k++;
    *nout = k;
    return a;
}

static void report_group(const program *ps, size_t np, bool real, const merged *mg, unsigned top, unsigned n)
{
    size_t members = 0;
    for (size_t i = 0; i < np; i++) members += ps[i].real == real;
    if (!members) return;
    const char *what = real ? "the real programs" : "the bench suite";
    /* Pairs, pairs with variants merged, instructions. */
    for (int table = 0; table < 3; table++) {
        bool singles = table == 2;
        const merged *m = table == 1 ? mg : NULL;
        size_t na;
        agg *a = aggregate(ps, np, real, singles, m, n, &na);
        if (!a) {
            fprintf(stderr, "%s: out of memory\n", prog);
            return;
        }
        printf("\n## Top %u %s over %s (%zu programs)%s\n\n", top, singles ? "instructions" : "pairs", what, members,
               m ? ", accumulator and back-edge variants merged" : "");
        if (m)
            printf("Each instruction under its name without the suffixes `_a`, `_a1`, `_a2`, `_v` (operand "
                   "from the accumulator) and `_b` (back edge), so that a pair is counted whichever variant "
                   "the translator picked.\n\n");
        printf("| # | %s | mean share | cumulative | programs >= 1%% | largest in |\n",
               singles ? "instruction" : "first -> second");
        printf("|--:|---|--:|--:|--:|---|\n");
        double cum = 0;
        for (size_t k = 0; k < na && k < top; k++) {
            cum += a[k].mean;
            const char *x = m ? m->base[a[k].prev] : iop_label(a[k].prev);
            const char *y = m ? m->base[a[k].op] : iop_label(a[k].op);
            printf("| %zu | ", k + 1);
            if (singles) printf("`%s`", y);
            else printf("`%s` -> `%s`", x, y);
            printf(" | %.2f%% | %.2f%% | %u | %s (%.1f%%) |\n", 100 * a[k].mean, 100 * cum, a[k].over1,
                   ps[a[k].max_prog].name, 100 * a[k].max);
        }
        free(a);
    }
}

static int cmd_report(int argc, char **argv)
{
    unsigned top = 20, per = 10, n = interp_debug_iop_count();
    const char *title = "Interpreter instruction-pair profile";
    program *ps = calloc((size_t)argc, sizeof *ps);
    named_op *index = calloc(n, sizeof *index);
    size_t np = 0;
    int status = 1;
    bool real = false;
    merged mg = {NULL, NULL};
    if (!ps || !index) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--top") && has) {
            if (parse_uint(argv[++i], &top)) goto usage;
        } else if (!strcmp(a, "--per") && has) {
            if (parse_uint(argv[++i], &per)) goto usage;
        } else if (!strcmp(a, "--title") && has) {
            title = argv[++i];
        } else if (!strcmp(a, "--real")) {
            real = true;
        } else if (a[0] != '-' && strchr(a, '=')) {
            const char *eq = strchr(a, '=');
            ps[np].name = strndup(a, (size_t)(eq - a));
            ps[np].path = eq + 1;
            ps[np].real = real;
            if (!ps[np++].name) goto out;
        } else {
            goto usage;
        }
    }
    if (!np) goto usage;
    for (unsigned op = 0; op < n; op++) index[op] = (named_op){iop_label(op), op};
    qsort(index, n, sizeof *index, by_name);
    for (size_t i = 0; i < np; i++)
        if (read_counts(&ps[i], index, n)) goto out;
    if (merged_init(&mg, n)) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }

    printf("# %s\n\n", title);
    printf("Counts of the interpreter's internal instructions (`src/interp/code.h`, `iops.def`) as they "
           "were dispatched, one after the other, while each program ran: a build with "
           "`-DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON`, measured by `tools/interp-prof` "
           "(`make interp-profile`). A pair `a -> b` is `b` dispatched right after `a`; `(entry)` is the "
           "start of an activation. Aggregates weigh every program equally: each program's counts are "
           "taken as shares of its own dispatches and the shares averaged, so a long-running kernel does "
           "not drown the others.\n\n");
    printf("| program | group | dispatches | distinct pairs | top pair |\n|---|---|--:|--:|---|\n");
    for (size_t i = 0; i < np; i++)
        printf("| %s | %s | %" PRIu64 " | %zu | `%s` -> `%s` (%.1f%%) |\n", ps[i].name,
               ps[i].real ? "real" : "suite", ps[i].total, ps[i].npairs, iop_label(ps[i].pairs[0].prev),
               iop_label(ps[i].pairs[0].op), 100.0 * (double)ps[i].pairs[0].count / (double)ps[i].total);
    report_group(ps, np, false, &mg, top, n);
    report_group(ps, np, true, &mg, top, n);

    printf("\n## Top %u pairs of each program\n", per);
    for (size_t i = 0; i < np; i++) {
        printf("\n### %s (%" PRIu64 " dispatches)\n\n| # | first -> second | count | share |\n|--:|---|--:|--:|\n",
               ps[i].name, ps[i].total);
        for (size_t k = 0; k < ps[i].npairs && k < per; k++)
            printf("| %zu | `%s` -> `%s` | %" PRIu64 " | %.2f%% |\n", k + 1, iop_label(ps[i].pairs[k].prev),
                   iop_label(ps[i].pairs[k].op), ps[i].pairs[k].count,
                   100.0 * (double)ps[i].pairs[k].count / (double)ps[i].total);
    }
    status = fflush(stdout) ? 1 : 0;
    goto out;

usage:
    usage(stderr);
    status = 2;
out:
    if (ps)
        for (size_t i = 0; i < np; i++) {
            free((char *)ps[i].name);
            free(ps[i].pairs);
        }
    free(ps);
    free(index);
    free(mg.cls);
    free(mg.base);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "report")) return cmd_report(argc - 1, argv + 1);
    return cmd_profile(argc, argv);
}
