/* k23vm.c - the k23vm command-line tool: validates and inspects WebAssembly binary modules through
 * the public API (include/k23vm.h). A hosted program; later revisions add `run`.
 *
 *   k23vm validate FILE...   decode + validate; prints "FILE: ok" or the error
 *   k23vm inspect FILE       sections, imports and exports with their types
 *
 * Exit status: 0 success, 1 a module was malformed or invalid (or could not be read), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k23vm.h"

static const char *prog = "k23vm";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s COMMAND [ARGS]\n"
            "\n"
            "WebAssembly 2.0 virtual machine, version " K23VM_VERSION_STRING ".\n"
            "\n"
            "commands:\n"
            "  validate FILE...   decode and validate binary modules; prints 'FILE: ok' for each\n"
            "  inspect FILE       validate, then list the module's sections, imports and exports\n"
            "  help, --help, -h   this text\n"
            "  version, --version the version\n"
            "\n"
            "Exit status: 0 on success, 1 when a module is malformed, invalid or unreadable, 2 on a\n"
            "usage error.\n",
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
