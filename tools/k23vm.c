/* k23vm.c - the k23vm command-line tool: runs, validates and inspects WebAssembly binary modules
 * through the public API (include/k23vm.h) and the WASI library (include/k23vm/wasi.h). A hosted
 * program.
 *
 *   k23vm run [OPTIONS] FILE [ARGS...]   run a WASI command (or --invoke an export)
 *   k23vm validate FILE...               decode + validate; prints "FILE: ok" or the error
 *   k23vm inspect FILE                   sections, imports and exports with their types
 *
 * Exit status of validate/inspect: 0 success, 1 a module was malformed or invalid (or could not be
 * read), 2 usage. Of run: see usage() below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k23vm.h"
#include "k23vm/wasi.h"

static const char *prog = "k23vm";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s COMMAND [ARGS]\n"
            "\n"
            "WebAssembly 2.0 virtual machine, version " K23VM_VERSION_STRING ".\n"
            "\n"
            "commands:\n"
            "  run [OPTIONS] FILE [ARGS...]\n"
            "                     run FILE as a WASI command: its _start with ARGS as the guest's\n"
            "                     argv[1..] (argv[0] is FILE)\n"
            "  validate FILE...   decode and validate binary modules; prints 'FILE: ok' for each\n"
            "  inspect FILE       validate, then list the module's sections, imports and exports\n"
            "  help, --help, -h   this text\n"
            "  version, --version the version\n"
            "\n"
            "run options:\n"
            "  --dir HOST[::GUEST]  preopen the host directory HOST for the guest, named GUEST\n"
            "                       (default: HOST); the guest sees nothing outside its preopens\n"
            "  --tcplisten HOST:PORT  give the guest a TCP socket listening there (for sock_accept;\n"
            "                       descriptors after the preopened directories)\n"
            "  --env NAME=VALUE     set a variable of the guest's environment (which is otherwise\n"
            "                       empty); --env NAME passes the host's value of NAME\n"
            "  --invoke NAME        call the export NAME instead of _start (after _initialize, if\n"
            "                       the module has one); ARGS are its arguments, as numbers\n"
            "                       (f32/f64 also inf, -inf, nan); its results are printed one a line\n"
            "  --fuel N             stop the guest with a trap after N units of fuel\n"
            "  --max-memory BYTES   cap each linear memory at BYTES (suffixes K, M, G: binary)\n"
            "  --mode interp|jit|tiered  execution mode (default interp)\n"
            "  --bounds guard|explicit  how memory accesses are bounds-checked: guard pages (no\n"
            "                       check in the code; the default where the platform has them) or\n"
            "                       an explicit check of every access\n"
            "  --                   end of options\n"
            "\n"
            "Environment: K23VM_WASI_RESOLVE=fallback makes WASI resolve paths by its own walk\n"
            "instead of openat2(RESOLVE_BENEATH).\n"
            "\n"
            "Exit status: validate and inspect: 0 on success, 1 when a module is malformed, invalid or\n"
            "unreadable, 2 on a usage error. run: the guest's proc_exit code (0 when _start or the\n"
            "invoked export returns); 134 when the guest traps (the trap and its wasm backtrace go\n"
            "to standard error), 130 when Ctrl-C interrupted it; 1 when the file cannot be read,\n"
            "decoded, validated or linked; 2 on a usage error.\n",
            prog);
}

/* ---- reading files ----------------------------------------------------------------------------- */

/* Reads the whole file; on failure prints "k23vm: FILE: reason" and returns false. */
static bool read_file(const char *path, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (len == cap) {
            uint8_t *nbuf = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nbuf) {
                ok = false;
                errno = ENOMEM;
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) ok = false;
            break;
        }
    }
    int saved = errno;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: %s: cannot read: %s\n", prog, path, strerror(saved ? saved : EIO));
        free(buf);
        return false;
    }
    *data = buf;
    *size = len;
    return true;
}

static const char *kind_word(k23vm_error_kind kind)
{
    switch (kind) {
    case K23VM_ERROR_MALFORMED: return "malformed module";
    case K23VM_ERROR_INVALID: return "invalid module";
    case K23VM_ERROR_UNLINKABLE: return "unlinkable";
    case K23VM_ERROR_UNINSTANTIABLE: return "uninstantiable";
    case K23VM_ERROR_RESOURCE: return "out of resources";
    case K23VM_ERROR_ARGUMENT: return "bad argument";
    }
    return "error";
}

/* "k23vm: FILE: invalid module at offset 0x2a (42): type mismatch" */
static void print_error(const char *path, k23vm_error *err)
{
    size_t off = k23vm_error_offset(err);
    fprintf(stderr, "%s: %s: %s", prog, path, kind_word(k23vm_error_kind_of(err)));
    if (off != SIZE_MAX) fprintf(stderr, " at offset 0x%zx (%zu)", off, off);
    fprintf(stderr, ": %s\n", k23vm_error_message(err));
}

/* Reads and decodes+validates path. Returns the module, or NULL after printing why. */
static k23vm_module *load(k23vm_engine *engine, const char *path, uint8_t **bytes, size_t *size)
{
    if (!read_file(path, bytes, size)) return NULL;
    k23vm_module *m = NULL;
    k23vm_error *err = k23vm_module_new(engine, *bytes, *size, &m);
    if (err) {
        print_error(path, err);
        k23vm_error_delete(err);
        return NULL;
    }
    return m;
}

/* ---- printing types ---------------------------------------------------------------------------- */

/* Names are UTF-8 of any content: print them quoted, escaping what a terminal should not see.
 * Returns the number of bytes printed. */
static int print_name(k23vm_name n)
{
    int w = 2;
    putchar('"');
    for (size_t i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.ptr[i];
        if (c == '"' || c == '\\')
            w += printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            w += printf("\\%02x", c);
        else
            w += putchar(c) != EOF;
    }
    putchar('"');
    return w;
}

static void pad(int printed, int column) { printf("%*s", printed < column ? column - printed : 1, ""); }

static void print_limits(k23vm_limits l)
{
    if (l.has_max)
        printf("min %llu, max %llu", (unsigned long long)l.min, (unsigned long long)l.max);
    else
        printf("min %llu", (unsigned long long)l.min);
}

static void print_valkinds(size_t n, const k23vm_valkind *v)
{
    putchar('(');
    for (size_t i = 0; i < n; i++) printf("%s%s", i ? ", " : "", k23vm_valkind_name(v[i]));
    putchar(')');
}

static void print_externtype(const k23vm_externtype *t)
{
    switch (t->kind) {
    case K23VM_EXTERN_FUNC:
        printf("func   ");
        print_valkinds(t->u.func.nparams, t->u.func.params);
        printf(" -> ");
        print_valkinds(t->u.func.nresults, t->u.func.results);
        break;
    case K23VM_EXTERN_TABLE:
        printf("table  %s, ", k23vm_valkind_name(t->u.table.elem));
        print_limits(t->u.table.limits);
        break;
    case K23VM_EXTERN_MEMORY:
        printf("memory pages ");
        print_limits(t->u.memory.limits);
        break;
    case K23VM_EXTERN_GLOBAL:
        printf("global %s%s", t->u.global.is_mutable ? "mut " : "", k23vm_valkind_name(t->u.global.type));
        break;
    default: printf("kind %d", (int)t->kind); break;
    }
}

/* ---- sections ---------------------------------------------------------------------------------- */

/* The module has validated, so its section headers are well formed; the walk is still bounded by
 * the buffer and stops quietly on anything unexpected. */
static bool leb_u32(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static void print_sections(const uint8_t *bytes, size_t size)
{
    static const char *const names[] = {"custom", "type",   "import",   "function", "table",
                                        "memory", "global", "export",   "start",    "element",
                                        "code",   "data",   "datacount"};
    printf("sections:\n");
    const uint8_t *p = bytes + 8, *end = bytes + size;
    while (p < end) {
        size_t start = (size_t)(p - bytes);
        uint8_t id = *p++;
        uint32_t len;
        if (!leb_u32(&p, end, &len) || len > (size_t)(end - p)) break;
        const uint8_t *body = p;
        p += len;
        printf("  %-9s offset 0x%08zx  size %9u", id < sizeof names / sizeof *names ? names[id] : "?", start,
               len);
        uint32_t count, nlen;
        const uint8_t *q = body;
        if (id == 0 && leb_u32(&q, p, &nlen) && nlen <= (size_t)(p - q)) {
            printf("  ");
            print_name((k23vm_name){(const char *)q, nlen});
        } else if (id != 0 && id != 8 && leb_u32(&q, p, &count)) {
            printf("  count %u", count);
        }
        putchar('\n');
    }
}

/* ---- commands ---------------------------------------------------------------------------------- */

static int cmd_validate(k23vm_engine *engine, int argc, char **argv)
{
    int status = 0;
    for (int i = 0; i < argc; i++) {
        uint8_t *bytes;
        size_t size;
        k23vm_module *m = load(engine, argv[i], &bytes, &size);
        if (m)
            printf("%s: ok\n", argv[i]);
        else
            status = 1;
        k23vm_module_delete(m);
        free(bytes);
    }
    return status;
}

static int cmd_inspect(k23vm_engine *engine, const char *path)
{
    uint8_t *bytes;
    size_t size;
    k23vm_module *m = load(engine, path, &bytes, &size);
    if (!m) {
        free(bytes);
        return 1;
    }
    printf("%s: %zu bytes, valid\n", path, size);
    print_sections(bytes, size);

    size_t nimports = k23vm_module_import_count(m);
    printf("imports (%zu):\n", nimports);
    for (size_t i = 0; i < nimports; i++) {
        k23vm_import im;
        if (!k23vm_module_import(m, i, &im)) continue;
        printf("  %4zu  ", i);
        int w = print_name(im.module);
        putchar(' ');
        pad(w + 1 + print_name(im.name), 46);
        print_externtype(&im.type);
        putchar('\n');
    }

    size_t nexports = k23vm_module_export_count(m);
    printf("exports (%zu):\n", nexports);
    for (size_t i = 0; i < nexports; i++) {
        k23vm_export ex;
        if (!k23vm_module_export(m, i, &ex)) continue;
        printf("  %4zu  ", i);
        pad(print_name(ex.name), 24);
        print_externtype(&ex.type);
        putchar('\n');
    }

    k23vm_module_delete(m);
    free(bytes);
    return 0;
}

/* ---- run --------------------------------------------------------------------------------------- */

#define RUN_STATUS_TRAP 134      /* as a process killed by SIGABRT shows in a shell */
#define RUN_STATUS_INTERRUPT 130 /* as one killed by SIGINT */

/* Ctrl-C stops the guest at its next check with an "interrupted" trap (k23vm_store_interrupt is
 * safe in a signal handler); a second one ends k23vm at once. */
static k23vm_store *volatile interrupt_store;

static void on_sigint(int sig)
{
    (void)sig;
    k23vm_store *s = interrupt_store;
    if (s) k23vm_store_interrupt(s);
    signal(SIGINT, SIG_DFL);
}

typedef struct run_opts {
    const char **dirs; /* HOST[::GUEST] */
    size_t ndirs;
    const char **envs; /* NAME=VALUE */
    size_t nenvs;
    const char **listens; /* HOST:PORT */
    size_t nlistens;
    const char *invoke;
    bool fuel;
    uint64_t fuel_amount;
    uint64_t max_memory;
    k23vm_exec_mode mode;
    k23vm_bounds_mode bounds;
    const char *file;
    int nargs;
    char **args; /* after the file */
} run_opts;

static bool parse_u64(const char *s, uint64_t *out, bool suffixes)
{
    errno = 0;
    char *end;
    if (*s == '-' || !*s) return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return false;
    uint64_t mul = 1;
    if (suffixes && *end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        default: return false;
        }
        end++;
        if (*end == 'i' || *end == 'I') end++;
        if (*end == 'b' || *end == 'B') end++;
    }
    if (*end) return false;
    if (v > UINT64_MAX / mul) return false;
    *out = (uint64_t)v * mul;
    return true;
}

/* The index of val among names[0..n) (NULL entries never match), or -1 after a usage error naming
 * option and what it expects. */
static int parse_choice(const char *option, const char *val, const char *const *names, int n, const char *expected)
{
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(val, names[i])) return i;
    fprintf(stderr, "%s: run: %s: expected %s, got '%s'\n", prog, option, expected, val);
    return -1;
}

/* Parses the arguments of `run` (argv after "run"). Returns 0, or 2 after printing a usage error. */
static int parse_run(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = K23VM_MODE_INTERP;
    o->dirs = calloc((size_t)argc + 1, sizeof *o->dirs);
    o->envs = calloc((size_t)argc + 1, sizeof *o->envs);
    o->listens = calloc((size_t)argc + 1, sizeof *o->listens);
    if (!o->dirs || !o->envs || !o->listens) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) break;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        /* --opt=value and --opt value alike */
        const char *name = a, *val = NULL;
        char buf[32];
        const char *eq = strchr(a, '=');
        if (eq && !strncmp(a, "--", 2) && (size_t)(eq - a) < sizeof buf) {
            memcpy(buf, a, (size_t)(eq - a));
            buf[eq - a] = 0;
            name = buf;
            val = eq + 1;
        }
        bool takes = !strcmp(name, "--dir") || !strcmp(name, "--env") || !strcmp(name, "--invoke") ||
                     !strcmp(name, "--tcplisten") ||
                     !strcmp(name, "--fuel") || !strcmp(name, "--max-memory") || !strcmp(name, "--mode") ||
                     !strcmp(name, "--bounds");
        if (!takes) {
            fprintf(stderr, "%s: run: unknown option '%s' (try '%s --help')\n", prog, a, prog);
            return 2;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: run: %s needs a value\n", prog, name);
                return 2;
            }
            val = argv[++i];
        }
        if (!strcmp(name, "--dir")) {
            o->dirs[o->ndirs++] = val;
        } else if (!strcmp(name, "--env")) {
            o->envs[o->nenvs++] = val;
        } else if (!strcmp(name, "--invoke")) {
            o->invoke = val;
        } else if (!strcmp(name, "--tcplisten")) {
            o->listens[o->nlistens++] = val;
        } else if (!strcmp(name, "--fuel")) {
            o->fuel = true;
            if (!parse_u64(val, &o->fuel_amount, false)) {
                fprintf(stderr, "%s: run: --fuel: not a number: '%s'\n", prog, val);
                return 2;
            }
        } else if (!strcmp(name, "--max-memory")) {
            if (!parse_u64(val, &o->max_memory, true)) {
                fprintf(stderr, "%s: run: --max-memory: not a size: '%s'\n", prog, val);
                return 2;
            }
        } else if (!strcmp(name, "--mode")) {
            static const char *const modes[] = {[K23VM_MODE_INTERP] = "interp", [K23VM_MODE_JIT] = "jit",
                                                [K23VM_MODE_TIERED] = "tiered"};
            int m = parse_choice(name, val, modes, (int)(sizeof modes / sizeof *modes), "interp, jit or tiered");
            if (m < 0) return 2;
            o->mode = (k23vm_exec_mode)m;
        } else if (!strcmp(name, "--bounds")) {
            static const char *const bounds[] = {[K23VM_BOUNDS_GUARD] = "guard",
                                                 [K23VM_BOUNDS_EXPLICIT] = "explicit"};
            int b = parse_choice(name, val, bounds, (int)(sizeof bounds / sizeof *bounds), "guard or explicit");
            if (b < 0) return 2;
            o->bounds = (k23vm_bounds_mode)b;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "%s: run: no module file given (usage: %s run [OPTIONS] FILE [ARGS...])\n", prog, prog);
        return 2;
    }
    o->file = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return 0;
}

static void print_trap(const k23vm_trap *trap)
{
    fprintf(stderr, "%s: trap: %s\n", prog, k23vm_trap_message(trap));
    size_t n = k23vm_trap_frame_count(trap);
    if (n) fprintf(stderr, "wasm backtrace:\n");
    for (size_t i = 0; i < n; i++) {
        k23vm_frame fr;
        if (!k23vm_trap_frame(trap, i, &fr)) continue;
        fprintf(stderr, "  #%zu  ", i);
        if (fr.module_name.len) fprintf(stderr, "%.*s!", (int)fr.module_name.len, fr.module_name.ptr);
        if (fr.func_name.len)
            fprintf(stderr, "%.*s", (int)fr.func_name.len, fr.func_name.ptr);
        else
            fprintf(stderr, "<func %u>", fr.funcidx);
        if (fr.module_offset != SIZE_MAX) fprintf(stderr, "  at byte 0x%zx of the module", fr.module_offset);
        fputc('\n', stderr);
    }
}

/* A wasm argument from text, by the parameter's type. */
static bool parse_val(const char *s, k23vm_valkind kind, k23vm_val *out)
{
    char *end;
    errno = 0;
    out->kind = kind;
    switch (kind) {
    case K23VM_I32: {
        long long v = strtoll(s, &end, 0);
        if (errno == ERANGE && *s != '-') {
            errno = 0;
            v = (long long)strtoull(s, &end, 0);
        }
        if (errno || end == s || *end || v < INT32_MIN || v > (long long)UINT32_MAX) return false;
        out->of.i32 = (int32_t)(uint32_t)v;
        return true;
    }
    case K23VM_I64: {
        long long v = strtoll(s, &end, 0);
        if (errno == ERANGE && *s != '-') {
            errno = 0;
            v = (long long)strtoull(s, &end, 0);
        }
        if (errno || end == s || *end) return false;
        out->of.i64 = (int64_t)v;
        return true;
    }
    case K23VM_F32:
        out->of.f32 = strtof(s, &end);
        return end != s && !*end;
    case K23VM_F64:
        out->of.f64 = strtod(s, &end);
        return end != s && !*end;
    default: return false;
    }
}

static void print_val(const k23vm_val *v)
{
    switch (v->kind) {
    case K23VM_I32: printf("%d\n", v->of.i32); break;
    case K23VM_I64: printf("%lld\n", (long long)v->of.i64); break;
    case K23VM_F32: printf("%.9g\n", (double)v->of.f32); break;
    case K23VM_F64: printf("%.17g\n", v->of.f64); break;
    case K23VM_V128:
        printf("0x");
        for (int i = 15; i >= 0; i--) printf("%02x", v->of.v128[i]);
        putchar('\n');
        break;
    case K23VM_FUNCREF: printf(v->of.funcref ? "funcref\n" : "null funcref\n"); break;
    case K23VM_EXTERNREF: printf(v->of.externref ? "externref\n" : "null externref\n"); break;
    }
}

/* A listening TCP socket on HOST:PORT (HOST may be a name or an address; [v6] in brackets), or -1
 * after printing why. */
static int tcp_listen(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host || !colon[1]) {
        fprintf(stderr, "%s: run: --tcplisten: expected HOST:PORT, got '%s'\n", prog, spec);
        return -1;
    }
    const char *h = spec;
    size_t hl = (size_t)(colon - spec);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int r = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
    if (r) {
        fprintf(stderr, "%s: run: --tcplisten %s: %s\n", prog, spec, gai_strerror(r));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 128)) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) fprintf(stderr, "%s: run: --tcplisten %s: %s\n", prog, spec, strerror(err));
    return fd;
}

static int cmd_run(int argc, char **argv)
{
    run_opts o;
    int status = parse_run(argc, argv, &o);
    k23vm_engine *engine = NULL;
    k23vm_module *module = NULL;
    k23vm_store *store = NULL;
    k23vm_linker *linker = NULL;
    k23vm_wasi *wasi = NULL;
    k23vm_wasi_preopen *pre = NULL;
    char **gargv = NULL, **envcopy = NULL;
    uint8_t *bytes = NULL;
    size_t size;
    k23vm_error *err = NULL;
    k23vm_trap *trap = NULL;
    k23vm_val *vals = NULL;
    int *socks = NULL;
    if (status) goto out;
    status = 1;
    /* A guest writing to a closed pipe hears EPIPE from fd_write instead of ending k23vm. */
    signal(SIGPIPE, SIG_IGN);

    k23vm_engine_config ecfg;
    k23vm_engine_config_init(&ecfg);
    ecfg.mode = o.mode;
    ecfg.bounds = o.bounds;
    if ((err = k23vm_engine_new(&ecfg, &engine))) {
        fprintf(stderr, "%s: cannot create engine: %s\n", prog, k23vm_error_message(err));
        goto out;
    }
    if (!(module = load(engine, o.file, &bytes, &size))) goto out;

    /* WASI: argv[0] is the file, the rest the arguments (not for --invoke: there they are the
     * export's). */
    pre = calloc(o.ndirs + 1, sizeof *pre);
    gargv = calloc((size_t)o.nargs + 2, sizeof *gargv);
    envcopy = calloc(o.nenvs + 1, sizeof *envcopy);
    if (!pre || !gargv || !envcopy) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }
    for (size_t i = 0; i < o.ndirs; i++) {
        char *d = strdup(o.dirs[i]);
        if (!d) goto out;
        char *sep = strstr(d, "::");
        if (sep) {
            *sep = 0;
            pre[i].guest_path = sep + 2;
        } else {
            pre[i].guest_path = d;
        }
        pre[i].host_path = d;
        /* The guest's name without trailing slashes ("out/" is "out", "/" stays). */
        char *g = (char *)pre[i].guest_path;
        size_t gl = strlen(g);
        while (gl > 1 && g[gl - 1] == '/') g[--gl] = 0;
        if (!gl) pre[i].guest_path = ".";
    }
    for (size_t i = 0; i < o.nenvs; i++) {
        if (strchr(o.envs[i], '=')) {
            envcopy[i] = strdup(o.envs[i]);
        } else {
            const char *v = getenv(o.envs[i]);
            if (asprintf(&envcopy[i], "%s=%s", o.envs[i], v ? v : "") < 0) envcopy[i] = NULL;
        }
        if (!envcopy[i]) goto out;
    }
    socks = calloc(o.nlistens + 1, sizeof *socks);
    if (!socks) goto out;
    for (size_t i = 0; i < o.nlistens; i++) socks[i] = -1;
    for (size_t i = 0; i < o.nlistens; i++)
        if ((socks[i] = tcp_listen(o.listens[i])) < 0) goto out;
    size_t gargc = 0;
    gargv[gargc++] = (char *)o.file;
    if (!o.invoke)
        for (int i = 0; i < o.nargs; i++) gargv[gargc++] = o.args[i];

    k23vm_wasi_config wcfg;
    k23vm_wasi_config_init(&wcfg);
    wcfg.argc = gargc;
    wcfg.argv = (const char *const *)gargv;
    wcfg.envc = o.nenvs;
    wcfg.envp = (const char *const *)envcopy;
    wcfg.npreopens = o.ndirs;
    wcfg.preopens = pre;
    wcfg.nsockets = o.nlistens;
    wcfg.sockets = socks;
    if ((err = k23vm_wasi_new(&wcfg, &wasi))) {
        fprintf(stderr, "%s: %s\n", prog, k23vm_error_message(err));
        goto out;
    }

    k23vm_store_config scfg;
    k23vm_store_config_init(&scfg);
    if (o.max_memory) {
        scfg.max_memory_pages = o.max_memory / 65536;
        if (!scfg.max_memory_pages) {
            fprintf(stderr, "%s: run: --max-memory %llu is less than one 64 KiB page\n", prog,
                    (unsigned long long)o.max_memory);
            status = 2;
            goto out;
        }
    }
    scfg.fuel = o.fuel;
    if ((err = k23vm_store_new(engine, &scfg, &store))) {
        fprintf(stderr, "%s: cannot create store: %s\n", prog, k23vm_error_message(err));
        goto out;
    }
    if (o.fuel && (err = k23vm_store_set_fuel(store, o.fuel_amount))) {
        fprintf(stderr, "%s: %s\n", prog, k23vm_error_message(err));
        goto out;
    }
    interrupt_store = store;
    signal(SIGINT, on_sigint);
    if ((err = k23vm_linker_new(engine, &linker)) || (err = k23vm_wasi_define(wasi, linker, store))) {
        fprintf(stderr, "%s: %s\n", prog, k23vm_error_message(err));
        goto out;
    }

    k23vm_instance *inst = NULL;
    if ((err = k23vm_linker_instantiate(linker, store, module, &inst, &trap))) {
        if (trap) goto trapped; /* the start function trapped (or exited) */
        print_error(o.file, err);
        /* Name the import that is missing. */
        if (k23vm_error_kind_of(err) == K23VM_ERROR_UNLINKABLE) {
            size_t n = k23vm_module_import_count(module);
            for (size_t i = 0; i < n; i++) {
                k23vm_import im;
                k23vm_extern ext;
                if (k23vm_module_import(module, i, &im) &&
                    !k23vm_linker_get(linker, im.module.ptr, im.module.len, im.name.ptr, im.name.len, &ext))
                    fprintf(stderr, "%s: %s: import %.*s.%.*s is not provided\n", prog, o.file, (int)im.module.len,
                            im.module.ptr, (int)im.name.len, im.name.ptr);
            }
        }
        goto out;
    }

    const char *entry = o.invoke ? o.invoke : "_start";
    k23vm_extern ext;
    if (o.invoke && k23vm_instance_export(inst, "_initialize", 11, &ext) && ext.kind == K23VM_EXTERN_FUNC) {
        fflush(stdout);
        k23vm_error_delete(k23vm_func_call(store, ext.of.func, NULL, 0, NULL, 0, &trap));
        if (trap) goto trapped;
    }
    if (!k23vm_instance_export(inst, entry, strlen(entry), &ext) || ext.kind != K23VM_EXTERN_FUNC) {
        if (o.invoke)
            fprintf(stderr, "%s: %s: no exported function '%s'\n", prog, o.file, entry);
        else
            fprintf(stderr, "%s: %s: no exported function _start (not a WASI command; use --invoke NAME)\n", prog,
                    o.file);
        goto out;
    }
    const k23vm_functype *ft = k23vm_func_type(ext.of.func);
    size_t nparams = ft->nparams, nresults = ft->nresults;
    if (!o.invoke && (nparams || nresults)) {
        fprintf(stderr, "%s: %s: _start must take and return nothing\n", prog, o.file);
        goto out;
    }
    if (o.invoke && (size_t)o.nargs != nparams) {
        fprintf(stderr, "%s: %s: %s takes %zu argument(s), %d given\n", prog, o.file, entry, nparams, o.nargs);
        status = 2;
        goto out;
    }
    vals = calloc(nparams + nresults + 1, sizeof *vals);
    if (!vals) goto out;
    for (size_t i = 0; i < nparams; i++) {
        if (!parse_val(o.args[i], ft->params[i], &vals[i])) {
            fprintf(stderr, "%s: %s: argument %zu of %s: '%s' is not a valid %s\n", prog, o.file, i + 1, entry, o.args[i],
                    k23vm_valkind_name(ft->params[i]));
            status = 2;
            goto out;
        }
    }
    fflush(stdout);
    if ((err = k23vm_func_call(store, ext.of.func, vals, nparams, vals + nparams, nresults, &trap))) {
        fprintf(stderr, "%s: %s: cannot call %s: %s\n", prog, o.file, entry, k23vm_error_message(err));
        goto out;
    }
    if (trap) goto trapped;
    for (size_t i = 0; i < nresults; i++) print_val(&vals[nparams + i]);
    status = 0;
    goto out;

trapped: {
    int code;
    if (k23vm_wasi_exit_code(wasi, &code)) {
        status = code;
    } else {
        fflush(stdout);
        print_trap(trap);
        status = k23vm_trap_code_of(trap) == K23VM_TRAP_INTERRUPTED ? RUN_STATUS_INTERRUPT : RUN_STATUS_TRAP;
    }
}
out:
    signal(SIGINT, SIG_DFL);
    interrupt_store = NULL;
    fflush(stdout);
    k23vm_trap_delete(trap);
    k23vm_error_delete(err);
    free(vals);
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_wasi_delete(wasi);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    free(bytes);
    if (pre)
        for (size_t i = 0; i < o.ndirs; i++) free((char *)pre[i].host_path);
    free(pre);
    if (envcopy)
        for (size_t i = 0; i < o.nenvs; i++) free(envcopy[i]);
    free(envcopy);
    free(gargv);
    if (socks)
        for (size_t i = 0; i < o.nlistens; i++)
            if (socks[i] >= 0) close(socks[i]);
    free(socks);
    free(o.listens);
    free(o.dirs);
    free(o.envs);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("k23vm %s\n", K23VM_VERSION_STRING);
        return 0;
    }

    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);

    bool is_validate = !strcmp(cmd, "validate"), is_inspect = !strcmp(cmd, "inspect");
    if (!is_validate && !is_inspect) {
        fprintf(stderr, "%s: unknown command '%s' (try '%s --help')\n", prog, cmd, prog);
        return 2;
    }
    if (argc < 3 || (is_inspect && argc != 3)) {
        fprintf(stderr, "%s: usage: %s %s FILE%s\n", prog, prog, cmd, is_validate ? "..." : "");
        return 2;
    }

    k23vm_engine *engine = NULL;
    k23vm_error *err = k23vm_engine_new(NULL, &engine);
    if (err) {
        fprintf(stderr, "%s: cannot create engine: %s\n", prog, k23vm_error_message(err));
        k23vm_error_delete(err);
        return 1;
    }
    int status = is_validate ? cmd_validate(engine, argc - 2, argv + 2) : cmd_inspect(engine, argv[2]);
    k23vm_engine_delete(engine);
    return status;
}
