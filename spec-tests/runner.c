/* runner.c - k23vm's WebAssembly spec-testsuite runner: reads the JSON scripts that wabt's
 * wast2json makes from .wast files and carries out every command against the VM through
 * embed.h, counting each command exactly once as passed, failed or skipped.
 *
 * Usage: k23vm-spec-runner [--mode interp|jit|tiered] [--bounds guard|explicit] [--set NAME]
 *                          [--json FILE] [--list FILE] [--no-isolate] [--timeout SECONDS] [-v]
 *                          [JSON...]
 *        k23vm-spec-runner --self-test
 * --list FILE names the scripts one per line as "DISPLAY-NAME<TAB>PATH.json", or
 * "DISPLAY-NAME<TAB>!MESSAGE" for a script that could not be converted (reported as an error).
 * spec-tests/run is the usual way in: it converts and caches the .wast files and calls this.
 * Each script runs in a child process with a time limit (default 600 s), so that a VM crash or
 * hang costs that script, reported as an ERROR, and not the run; --no-isolate runs all in-process
 * (for debuggers).
 *
 * Honest counting: a command passes only when the VM did what the script demands; a command
 * needing something the VM does not have yet (instantiation, calls) or a text-format module
 * (we take binaries only) is skipped with its reason; anything else that goes wrong, including
 * an unreadable script, is a failure. Exit status: 0 when nothing failed, 1 when a command
 * failed or a script was missing or unreadable, 2 on a usage or setup error. */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, waitpid, alarm, strsignal */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "embed.h"
#include "json.h"
#include "values.h"

enum { MAX_FILE_BYTES = 1 << 30, LIST_FAILURES_DEFAULT = 20 };

/* ---- small utilities ---------------------------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "k23vm-spec-runner: out of memory\n");
        exit(2);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *s = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Reads a whole file. Returns NULL with err set on failure. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            if (cap >= MAX_FILE_BYTES) {
                snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap = cap ? cap * 2 : 65536 * 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A name from JSON for messages: non-printable bytes as \xNN, bounded. */
static void printable(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (outlen) out[o < outlen ? o : outlen - 1] = '\0';
}

static const char *error_kind_name(k23vm_error_kind k)
{
    switch (k) {
    case K23VM_ERROR_MALFORMED: return "malformed";
    case K23VM_ERROR_INVALID: return "invalid";
    case K23VM_ERROR_UNLINKABLE: return "unlinkable";
    case K23VM_ERROR_UNINSTANTIABLE: return "uninstantiable";
    case K23VM_ERROR_RESOURCE: return "resource";
    case K23VM_ERROR_ARGUMENT: return "argument";
    }
    return "unknown-error-kind";
}

/* ---- counters ---------------------------------------------------------------------------------- */

typedef struct counts {
    unsigned long passed, failed, skipped;
} counts;

/* Command kinds are wast2json's command types. The known ones come first, in this order, so
 * that summaries list them alike every run; unknown types are appended as met. */
static const char *const known_kinds[] = {
    "module",
    "register",
    "action",
    "assert_return",
    "assert_trap",
    "assert_exhaustion",
    "assert_invalid",
    "assert_malformed",
    "assert_unlinkable",
    "assert_uninstantiable",
};
enum { N_KNOWN_KINDS = sizeof known_kinds / sizeof known_kinds[0] };

typedef struct kind_stat {
    char *name;
    counts c;
} kind_stat;

typedef struct skip_reason {
    char *kind, *reason;
    unsigned long count;
} skip_reason;

typedef struct file_stat {
    char *name;
    counts c;
    unsigned long mismatches;
    char *error; /* the script could not be converted or read; NULL otherwise */
} file_stat;

typedef struct runner {
    embed *vm;
    bool verbose;
    bool isolate;     /* each script in a child process (see run_script_isolated) */
    unsigned timeout; /* seconds per isolated script, 0 for none */
    const char *set_name, *mode_name, *bounds_name;
    kind_stat *kinds;
    size_t nkinds;
    skip_reason *skips;
    size_t nskips;
    file_stat *files;
    size_t nfiles;
    counts total;
    unsigned long mismatches;
    unsigned long file_errors;
} runner;

static kind_stat *kind_for(runner *r, const char *name)
{
    for (size_t i = 0; i < r->nkinds; i++)
        if (strcmp(r->kinds[i].name, name) == 0) return &r->kinds[i];
    r->kinds = xrealloc(r->kinds, (r->nkinds + 1) * sizeof *r->kinds);
    kind_stat *k = &r->kinds[r->nkinds++];
    k->name = xstrdup(name);
    k->c = (counts){0, 0, 0};
    return k;
}

static void count_skip_reason(runner *r, const char *kind, const char *reason, unsigned long n)
{
    for (size_t i = 0; i < r->nskips; i++) {
        if (strcmp(r->skips[i].kind, kind) == 0 && strcmp(r->skips[i].reason, reason) == 0) {
            r->skips[i].count += n;
            return;
        }
    }
    r->skips = xrealloc(r->skips, (r->nskips + 1) * sizeof *r->skips);
    r->skips[r->nskips++] = (skip_reason){xstrdup(kind), xstrdup(reason), n};
}

/* ---- per-script state ------------------------------------------------------------------------------ */

/* The outcome of one command. */
typedef enum verdict { V_PASS, V_FAIL, V_SKIP } verdict;

typedef struct result {
    verdict v;
    char why[1024]; /* failure: what went wrong; skip: the reason (grouped in the summary) */
    /* A passed error assertion whose message differs from the script's text. */
    bool mismatch;
    char mismatch_text[768];
} result;

static void res_fail(result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void res_fail(result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
    res->v = V_FAIL;
}

static void res_skip(result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void res_skip(result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof res->why, fmt, ap);
    va_end(ap);
    res->v = V_SKIP;
}

/* The skip reasons shared by many commands. */
#define SKIP_NO_EXEC "needs instantiation/execution, which the VM does not have yet"
#define SKIP_TEXT "text-format module (the runner takes binary modules only)"

/* A module command's product: the module (NULL when it failed to load or was skipped), under
 * its name. */
typedef struct mod_entry {
    char *name; /* "$M" or NULL */
    unsigned long line;
    embed_module *m;
    bool skipped; /* a text-format module: what uses it is skipped too, not failed */
} mod_entry;

typedef struct script {
    runner *r;
    char *dir; /* where the script's .wasm files are */
    mod_entry *mods;
    size_t nmods;
    long current; /* index into mods of the most recent module command, -1 before any */
    /* Report lines for this script, printed after its summary line. */
    char **failures;
    size_t nfailures;
    char **mismatches;
    size_t nmismatches;
} script;

static void add_line(char ***lines, size_t *n, char *line)
{
    *lines = xrealloc(*lines, (*n + 1) * sizeof **lines);
    (*lines)[(*n)++] = line;
}

/* Reads the module file a command names. */
/* Reads the command's module file and hands it to the VM. Returns false when the file cannot be
 * read (res failed); otherwise the VM's answer is in *st and *o, and *m holds the module when
 * *st is EMBED_OK. */
static bool load_module(script *s, const json_value *cmd, embed_module **m, embed_status *st, embed_outcome *o,
                        result *res)
{
    const char *fn = json_string(json_get(cmd, "filename"));
    if (!fn) {
        res_fail(res, "script: command has no filename");
        return false;
    }
    char *path = xprintf("%s/%s", s->dir, fn);
    char err[512];
    size_t len;
    uint8_t *bytes = (uint8_t *)read_file(path, &len, err, sizeof err);
    free(path);
    if (!bytes) {
        res_fail(res, "%s", err);
        return false;
    }
    *st = embed_load(s->r->vm, bytes, len, m, o);
    free(bytes);
    return true;
}

static bool is_text_module(const json_value *cmd)
{
    return json_string_is(json_get(cmd, "module_type"), "text");
}

/* The module an action or register names: by "module" name, else the current one. Returns
 * false when there is none or it did not load (res failed) or it was skipped (res skipped). */
static bool resolve_module(script *s, const json_value *name, embed_module **out, result *res)
{
    long idx = s->current;
    const char *n = json_string(name);
    if (n) {
        idx = -1;
        for (size_t i = s->nmods; i-- > 0;) {
            if (s->mods[i].name && strcmp(s->mods[i].name, n) == 0) {
                idx = (long)i;
                break;
            }
        }
        if (idx < 0) {
            res_fail(res, "script names unknown module %s", n);
            return false;
        }
    } else if (idx < 0) {
        res_fail(res, "no module defined before this command");
        return false;
    }
    if (s->mods[idx].skipped) {
        res_skip(res, "uses a skipped module");
        return false;
    }
    if (!s->mods[idx].m) {
        res_fail(res, "the module of line %lu did not load", s->mods[idx].line);
        return false;
    }
    *out = s->mods[idx].m;
    return true;
}

/* ---- actions and expected results --------------------------------------------------------------- */

typedef struct action {
    bool is_get;
    const json_value *module; /* the "module" member, or NULL */
    const char *field;
    size_t field_len;
    spec_val *args;
    size_t nargs;
} action;

/* Parses an action; a parse problem fails (or, for an unsupported value type, skips) res. */
static bool parse_action(const json_value *cmd, action *a, result *res)
{
    memset(a, 0, sizeof *a);
    const json_value *ja = json_get(cmd, "action");
    const json_value *type = json_get(ja, "type");
    if (json_string_is(type, "invoke"))
        a->is_get = false;
    else if (json_string_is(type, "get"))
        a->is_get = true;
    else {
        res_fail(res, "script: unknown action type %s", json_string(type) ? json_string(type) : "(none)");
        return false;
    }
    const json_value *field = json_get(ja, "field");
    if (!field || field->type != JSON_STRING) {
        res_fail(res, "script: action without a field");
        return false;
    }
    a->field = field->u.string.ptr;
    a->field_len = field->u.string.len;
    a->module = json_get(ja, "module");
    const json_value *args = json_get(ja, "args");
    a->nargs = json_array_len(args);
    a->args = xrealloc(NULL, (a->nargs ? a->nargs : 1) * sizeof *a->args);
    for (size_t i = 0; i < a->nargs; i++) {
        char err[256];
        spec_parse_status st = spec_val_parse(json_array_at(args, i), &a->args[i], err, sizeof err);
        if (st == SPEC_PARSE_UNSUPPORTED) {
            res_skip(res, "%s", err);
            return false;
        }
        if (st != SPEC_PARSE_OK) {
            res_fail(res, "script: argument %zu: %s", i, err);
            return false;
        }
    }
    return true;
}

static void free_action(action *a) { free(a->args); }

typedef struct expected_list {
    spec_expect *e;
    size_t n;
} expected_list;

static bool parse_expected(const json_value *cmd, expected_list *x, result *res)
{
    const json_value *je = json_get(cmd, "expected");
    x->n = 0;
    size_t n = json_array_len(je);
    x->e = xrealloc(NULL, (n ? n : 1) * sizeof *x->e);
    for (size_t i = 0; i < n; i++) {
        char err[256];
        spec_parse_status st = spec_expect_parse(json_array_at(je, i), &x->e[i], err, sizeof err);
        if (st == SPEC_PARSE_UNSUPPORTED) {
            res_skip(res, "%s", err);
            return false;
        }
        if (st != SPEC_PARSE_OK) {
            res_fail(res, "script: expected result %zu: %s", i, err);
            return false;
        }
        x->n = i + 1;
    }
    return true;
}

static void free_expected(expected_list *x)
{
    for (size_t i = 0; i < x->n; i++) spec_expect_free(&x->e[i]);
    free(x->e);
}

/* Carries out an action on its module. A missing or broken module fails res and returns false;
 * otherwise the embed status is in *st (EMBED_UNSUPPORTED has skipped res). */
static bool do_action(script *s, const action *a, spec_val *results, size_t *nresults, embed_outcome *o,
                      embed_status *st, result *res)
{
    embed_module *m;
    *nresults = 0;
    if (!resolve_module(s, a->module, &m, res)) return false;
    if (a->is_get) {
        *st = embed_get(s->r->vm, m, a->field, a->field_len, &results[0], o);
        if (*st == EMBED_OK) *nresults = 1;
    } else {
        *st = embed_invoke(s->r->vm, m, a->field, a->field_len, a->args, a->nargs, results, nresults, o);
        if (*nresults > EMBED_MAX_RESULTS) *nresults = EMBED_MAX_RESULTS;
    }
    if (*st == EMBED_UNSUPPORTED) res_skip(res, SKIP_NO_EXEC);
    return true;
}

static void describe_outcome(const embed_outcome *o, char *buf, size_t len)
{
    switch (o->status) {
    case EMBED_OK: snprintf(buf, len, "returned normally"); break;
    case EMBED_TRAP: snprintf(buf, len, "trapped: %s", o->message); break;
    case EMBED_EXHAUSTED: snprintf(buf, len, "exhausted the call stack: %s", o->message); break;
    case EMBED_ERROR:
        snprintf(buf, len, "failed (%s): %s", error_kind_name(o->error_kind), o->message);
        break;
    case EMBED_UNSUPPORTED: snprintf(buf, len, "unsupported: %s", o->message); break;
    }
}

static void note_mismatch(result *res, const char *expected, const char *actual)
{
    res->mismatch = true;
    snprintf(res->mismatch_text, sizeof res->mismatch_text, "expected \"%s\", got \"%s\"", expected, actual);
}

/* ---- commands ------------------------------------------------------------------------------------- */

static void cmd_module(script *s, const json_value *cmd, unsigned long line, result *res)
{
    const char *name = json_string(json_get(cmd, "name"));
    s->mods = xrealloc(s->mods, (s->nmods + 1) * sizeof *s->mods);
    mod_entry *me = &s->mods[s->nmods];
    *me = (mod_entry){name ? xstrdup(name) : NULL, line, NULL, false};
    s->current = (long)s->nmods++;
    if (is_text_module(cmd)) {
        me->skipped = true;
        res_skip(res, SKIP_TEXT);
        return;
    }
    embed_outcome o;
    embed_status st;
    if (!load_module(s, cmd, &me->m, &st, &o, res)) return;
    if (st != EMBED_OK) {
        res_fail(res, "module rejected as %s: %s", error_kind_name(o.error_kind), o.message);
        return;
    }
    st = embed_instantiate(s->r->vm, me->m, &o);
    if (st == EMBED_UNSUPPORTED) {
        /* All the VM claims so far is decode + validate, and that succeeded. */
        res->v = V_PASS;
        return;
    }
    if (st != EMBED_OK) {
        char d[640];
        describe_outcome(&o, d, sizeof d);
        res_fail(res, "instantiation %s", d);
        /* Later commands must not run against a half-made instance. */
        embed_module_delete(me->m);
        me->m = NULL;
        return;
    }
    res->v = V_PASS;
}

/* assert_malformed and assert_invalid: the module must be rejected at load, in the right stage. */
static void cmd_assert_rejected(script *s, const json_value *cmd, k23vm_error_kind want, result *res)
{
    if (is_text_module(cmd)) {
        res_skip(res, SKIP_TEXT);
        return;
    }
    const char *text = json_string(json_get(cmd, "text"));
    if (!text) text = "";
    embed_module *m = NULL;
    embed_outcome o;
    embed_status st;
    if (!load_module(s, cmd, &m, &st, &o, res)) return;
    if (st == EMBED_OK) {
        embed_module_delete(m);
        res_fail(res, "module accepted; expected it %s: \"%s\"", error_kind_name(want), text);
        return;
    }
    if (o.error_kind != want) {
        res_fail(res, "rejected as %s (\"%s\"); expected %s: \"%s\"", error_kind_name(o.error_kind),
                 o.message, error_kind_name(want), text);
        return;
    }
    res->v = V_PASS;
    if (!spec_messages_agree(text, o.message)) note_mismatch(res, text, o.message);
}

/* assert_unlinkable and assert_uninstantiable: a valid module whose instantiation must fail. */
static void cmd_assert_instantiation_fails(script *s, const json_value *cmd, k23vm_error_kind want,
                                           result *res)
{
    if (is_text_module(cmd)) {
        res_skip(res, SKIP_TEXT);
        return;
    }
    const char *text = json_string(json_get(cmd, "text"));
    if (!text) text = "";
    embed_module *m = NULL;
    embed_outcome o;
    embed_status st;
    if (!load_module(s, cmd, &m, &st, &o, res)) return;
    if (st != EMBED_OK) {
        /* The spec's modules here are valid; rejecting one is wrong whatever the VM can run. */
        res_fail(res, "valid module rejected as %s: %s", error_kind_name(o.error_kind), o.message);
        return;
    }
    st = embed_instantiate(s->r->vm, m, &o);
    embed_module_delete(m);
    if (st == EMBED_UNSUPPORTED) {
        res_skip(res, SKIP_NO_EXEC);
        return;
    }
    if (st == EMBED_ERROR && o.error_kind == want) {
        res->v = V_PASS;
        if (!spec_messages_agree(text, o.message)) note_mismatch(res, text, o.message);
        return;
    }
    char d[640];
    describe_outcome(&o, d, sizeof d);
    res_fail(res, "instantiation %s; expected %s: \"%s\"", st == EMBED_OK ? "succeeded" : d,
             error_kind_name(want), text);
}

static void cmd_register(script *s, const json_value *cmd, result *res)
{
    const json_value *as = json_get(cmd, "as");
    if (!as || as->type != JSON_STRING) {
        res_fail(res, "script: register without \"as\"");
        return;
    }
    if (!embed_can_execute(s->r->vm)) {
        res_skip(res, SKIP_NO_EXEC);
        return;
    }
    embed_module *m;
    if (!resolve_module(s, json_get(cmd, "name"), &m, res)) return;
    embed_outcome o;
    embed_status st = embed_register(s->r->vm, m, as->u.string.ptr, as->u.string.len, &o);
    if (st == EMBED_UNSUPPORTED)
        res_skip(res, SKIP_NO_EXEC);
    else if (st != EMBED_OK)
        res_fail(res, "register failed: %s", o.message);
    else
        res->v = V_PASS;
}

static void action_name(const action *a, char *buf, size_t len)
{
    char f[200];
    printable(a->field, a->field_len, f, sizeof f);
    snprintf(buf, len, "%s \"%s\"", a->is_get ? "get" : "invoke", f);
}

/* action, assert_return, assert_trap, assert_exhaustion. */
static void cmd_run(script *s, const json_value *cmd, const char *kind, result *res)
{
    bool is_return = strcmp(kind, "assert_return") == 0;
    bool is_trap = strcmp(kind, "assert_trap") == 0;
    bool is_exhaustion = strcmp(kind, "assert_exhaustion") == 0;
    action a;
    expected_list x = {NULL, 0};
    if (!parse_action(cmd, &a, res)) goto done;
    /* Parse what is expected even when the VM cannot run the command yet, so that every value in
     * the suite goes through the parser today. */
    if (!parse_expected(cmd, &x, res)) goto done;
    if (!embed_can_execute(s->r->vm)) {
        res_skip(res, SKIP_NO_EXEC);
        goto done;
    }
    spec_val results[EMBED_MAX_RESULTS];
    size_t nres = 0;
    embed_outcome o;
    embed_status st;
    if (!do_action(s, &a, results, &nres, &o, &st, res) || st == EMBED_UNSUPPORTED) goto done;
    char an[256], d[640];
    action_name(&a, an, sizeof an);
    describe_outcome(&o, d, sizeof d);
    const char *text = json_string(json_get(cmd, "text"));
    if (!text) text = "";
    if (is_trap || is_exhaustion) {
        embed_status want = is_trap ? EMBED_TRAP : EMBED_EXHAUSTED;
        if (st == want) {
            res->v = V_PASS;
            if (!spec_messages_agree(text, o.message)) note_mismatch(res, text, o.message);
        } else if (st == EMBED_OK) {
            res_fail(res, "%s returned normally; expected %s \"%s\"", an, is_trap ? "trap" : "exhaustion",
                     text);
        } else {
            res_fail(res, "%s %s; expected %s \"%s\"", an, d, is_trap ? "trap" : "exhaustion", text);
        }
        goto done;
    }
    if (st != EMBED_OK) {
        res_fail(res, "%s %s", an, d);
        goto done;
    }
    if (!is_return) { /* a bare action: running without a trap is all it asks */
        res->v = V_PASS;
        goto done;
    }
    if (nres != x.n) {
        res_fail(res, "%s returned %zu values, expected %zu", an, nres, x.n);
        goto done;
    }
    for (size_t i = 0; i < x.n; i++) {
        if (!spec_match(&x.e[i], &results[i])) {
            char want[512], got[512];
            spec_expect_format(&x.e[i], want, sizeof want);
            spec_val_format(&results[i], x.e[i].lane, got, sizeof got);
            res_fail(res, "%s result %zu: got %s, expected %s", an, i, got, want);
            goto done;
        }
    }
    res->v = V_PASS;
done:
    free_action(&a);
    free_expected(&x);
}

static void run_command(script *s, const json_value *cmd, const char *kind, unsigned long line, result *res)
{
    if (strcmp(kind, "module") == 0)
        cmd_module(s, cmd, line, res);
    else if (strcmp(kind, "assert_malformed") == 0)
        cmd_assert_rejected(s, cmd, K23VM_ERROR_MALFORMED, res);
    else if (strcmp(kind, "assert_invalid") == 0)
        cmd_assert_rejected(s, cmd, K23VM_ERROR_INVALID, res);
    else if (strcmp(kind, "assert_unlinkable") == 0)
        cmd_assert_instantiation_fails(s, cmd, K23VM_ERROR_UNLINKABLE, res);
    else if (strcmp(kind, "assert_uninstantiable") == 0)
        cmd_assert_instantiation_fails(s, cmd, K23VM_ERROR_UNINSTANTIABLE, res);
    else if (strcmp(kind, "register") == 0)
        cmd_register(s, cmd, res);
    else if (strcmp(kind, "action") == 0 || strcmp(kind, "assert_return") == 0 ||
             strcmp(kind, "assert_trap") == 0 || strcmp(kind, "assert_exhaustion") == 0)
        cmd_run(s, cmd, kind, res);
    else if (strcmp(kind, "assert_exception") == 0)
        /* Legacy exception handling (wast2json --enable-exceptions): not a 2.0 feature. */
        res_skip(res, "exception handling is not supported");
    else
        res_fail(res, "runner: unknown command type \"%s\"", kind);
}

/* ---- scripts ------------------------------------------------------------------------------------- */

static file_stat *new_file_stat(runner *r, const char *name)
{
    r->files = xrealloc(r->files, (r->nfiles + 1) * sizeof *r->files);
    file_stat *fs = &r->files[r->nfiles++];
    *fs = (file_stat){xstrdup(name), {0, 0, 0}, 0, NULL};
    return fs;
}

static void file_error(runner *r, file_stat *fs, const char *msg)
{
    fs->error = xstrdup(msg);
    r->file_errors++;
    printf("%s: ERROR: %s\n", fs->name, msg);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    char *d = xstrdup(path);
    d[slash - path] = '\0';
    return d;
}

static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return xstrdup(slash ? slash + 1 : path);
}

/* Runs one script. name is its display name; NULL takes the base name of the script's
 * source_filename (or of json_path when it has none). */
static void run_script(runner *r, const char *name, const char *json_path)
{
    char err[512];
    size_t len;
    char *text = read_file(json_path, &len, err, sizeof err);
    bool readable = text != NULL;
    json_doc *doc = text ? json_parse(text, len, err, sizeof err) : NULL;
    free(text);
    char *own_name = NULL;
    if (!name) {
        const char *src = doc ? json_string(json_get(json_root(doc), "source_filename")) : NULL;
        name = own_name = base_name(src ? src : json_path);
    }
    file_stat *fs = new_file_stat(r, name);
    free(own_name);
    name = fs->name;
    if (!readable) {
        file_error(r, fs, err);
        return;
    }
    const json_value *cmds = doc ? json_get(json_root(doc), "commands") : NULL;
    if (!doc || !cmds || cmds->type != JSON_ARRAY) {
        char *msg = xprintf("%s: %s", json_path, doc ? "no \"commands\" array" : err);
        file_error(r, fs, msg);
        free(msg);
        json_free(doc);
        return;
    }
    script s = {.r = r, .dir = dir_of(json_path), .current = -1};
    size_t ncmds = json_array_len(cmds);
    for (size_t i = 0; i < ncmds; i++) {
        const json_value *cmd = json_array_at(cmds, i);
        const char *kind = json_string(json_get(cmd, "type"));
        if (!kind) kind = "(no type)";
        unsigned long long line = 0;
        json_uint(json_get(cmd, "line"), &line);
        result res;
        res.v = V_FAIL; /* every path below sets its verdict; this catches one that forgets */
        snprintf(res.why, sizeof res.why, "runner: no verdict");
        res.mismatch = false;
        if (!cmd || cmd->type != JSON_OBJECT)
            res_fail(&res, "script: command is not an object");
        else
            run_command(&s, cmd, kind, (unsigned long)line, &res);

        kind_stat *ks = kind_for(r, kind);
        switch (res.v) {
        case V_PASS:
            fs->c.passed++;
            ks->c.passed++;
            r->total.passed++;
            break;
        case V_FAIL:
            fs->c.failed++;
            ks->c.failed++;
            r->total.failed++;
            add_line(&s.failures, &s.nfailures, xprintf("  line %llu: %s: %s", line, kind, res.why));
            break;
        case V_SKIP:
            fs->c.skipped++;
            ks->c.skipped++;
            r->total.skipped++;
            count_skip_reason(r, kind, res.why, 1);
            break;
        }
        if (res.mismatch) {
            fs->mismatches++;
            r->mismatches++;
            add_line(&s.mismatches, &s.nmismatches,
                     xprintf("  line %llu: %s: message mismatch: %s", line, kind, res.mismatch_text));
        }
    }
    embed_reset(r->vm);
    json_free(doc);

    printf("%s: %lu passed, %lu failed, %lu skipped\n", name, fs->c.passed, fs->c.failed, fs->c.skipped);
    size_t limit = r->verbose ? s.nfailures : LIST_FAILURES_DEFAULT;
    for (size_t i = 0; i < s.nfailures; i++) {
        if (i < limit) printf("%s\n", s.failures[i]);
        free(s.failures[i]);
    }
    if (s.nfailures > limit) printf("  ... and %zu more failures (-v lists all)\n", s.nfailures - limit);
    for (size_t i = 0; i < s.nmismatches; i++) {
        if (r->verbose) printf("%s\n", s.mismatches[i]);
        free(s.mismatches[i]);
    }
    free(s.failures);
    free(s.mismatches);
    for (size_t i = 0; i < s.nmods; i++) {
        embed_module_delete(s.mods[i].m);
        free(s.mods[i].name);
    }
    free(s.mods);
    free(s.dir);
}

/* ---- crash isolation ------------------------------------------------------------------------------ */

/* Each script runs in a child process (unless --no-isolate), so that a crash or a hang of the VM
 * in one script turns into an ERROR for that script and the run goes on. The child prints the
 * script's report to stdout itself and hands its counts to the parent through a pipe, one record
 * per line, fields separated by tabs:
 *   N name | F passed failed skipped mismatches | E error | K kind passed failed skipped |
 *   S kind reason count | END
 * A child that dies before END had its counts lost: the script is reported as an error. */

static void put_field(FILE *f, const char *s)
{
    fputc('\t', f);
    for (; *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void send_counts(const runner *r, FILE *f)
{
    const file_stat *fs = &r->files[r->nfiles - 1];
    fprintf(f, "N");
    put_field(f, fs->name);
    fprintf(f, "\nF\t%lu\t%lu\t%lu\t%lu\n", fs->c.passed, fs->c.failed, fs->c.skipped, fs->mismatches);
    if (fs->error) {
        fprintf(f, "E");
        put_field(f, fs->error);
        fputc('\n', f);
    }
    for (size_t i = 0; i < r->nkinds; i++) {
        const counts *c = &r->kinds[i].c;
        if (!c->passed && !c->failed && !c->skipped) continue;
        fprintf(f, "K");
        put_field(f, r->kinds[i].name);
        fprintf(f, "\t%lu\t%lu\t%lu\n", c->passed, c->failed, c->skipped);
    }
    for (size_t i = 0; i < r->nskips; i++) {
        fprintf(f, "S");
        put_field(f, r->skips[i].kind);
        put_field(f, r->skips[i].reason);
        fprintf(f, "\t%lu\n", r->skips[i].count);
    }
    fprintf(f, "END\n");
}

/* Splits line at tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
    size_t n = 0;
    while (n < max) {
        fields[n++] = line;
        char *tab = strchr(line, '\t');
        if (!tab) break;
        *tab = '\0';
        line = tab + 1;
    }
    return n;
}

static unsigned long to_ul(const char *s) { return strtoul(s, NULL, 10); }

/* Applies a child's records to r. Returns false when they are incomplete. */
static bool take_counts(runner *r, char *buf, const char *fallback_name)
{
    if (!strstr(buf, "\nEND\n")) return false;
    file_stat *fs = NULL;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        char *f[6];
        size_t n = split_tabs(line, f, 6);
        if (strcmp(f[0], "N") == 0 && n == 2) {
            fs = new_file_stat(r, f[1]);
        } else if (strcmp(f[0], "F") == 0 && n == 5) {
            if (!fs) fs = new_file_stat(r, fallback_name);
            fs->c = (counts){to_ul(f[1]), to_ul(f[2]), to_ul(f[3])};
            fs->mismatches = to_ul(f[4]);
            r->total.passed += fs->c.passed;
            r->total.failed += fs->c.failed;
            r->total.skipped += fs->c.skipped;
            r->mismatches += fs->mismatches;
        } else if (strcmp(f[0], "E") == 0 && n == 2 && fs) {
            fs->error = xstrdup(f[1]);
            r->file_errors++;
        } else if (strcmp(f[0], "K") == 0 && n == 5) {
            kind_stat *k = kind_for(r, f[1]);
            k->c.passed += to_ul(f[2]);
            k->c.failed += to_ul(f[3]);
            k->c.skipped += to_ul(f[4]);
        } else if (strcmp(f[0], "S") == 0 && n == 4) {
            count_skip_reason(r, f[1], f[2], to_ul(f[3]));
        }
    }
    return true;
}

static void run_script_isolated(runner *r, const char *name, const char *json_path)
{
    fflush(stdout);
    fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "k23vm-spec-runner: pipe: %s; running %s in-process\n", strerror(errno), json_path);
        run_script(r, name, json_path);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "k23vm-spec-runner: fork: %s; running %s in-process\n", strerror(errno), json_path);
        close(fds[0]);
        close(fds[1]);
        run_script(r, name, json_path);
        return;
    }
    if (pid == 0) {
        /* The child: count from zero, report, and leave without running the parent's cleanup. */
        close(fds[0]);
        if (r->timeout) alarm(r->timeout);
        for (size_t i = 0; i < r->nkinds; i++) r->kinds[i].c = (counts){0, 0, 0};
        r->nskips = 0;
        r->nfiles = 0;
        r->skips = NULL;
        r->files = NULL;
        run_script(r, name, json_path);
        fflush(stdout);
        FILE *f = fdopen(fds[1], "w");
        if (!f) _exit(3);
        send_counts(r, f);
        _exit(fclose(f) == 0 ? 0 : 3);
    }
    close(fds[1]);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 16384;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t got = read(fds[0], buf + len, cap - len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fds[0]);
    buf = xrealloc(buf, len + 2);
    buf[len] = '\0';
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }

    char *fallback = name ? xstrdup(name) : base_name(json_path);
    bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!exited_ok || !take_counts(r, buf, fallback)) {
        char why[200];
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
            snprintf(why, sizeof why, "timed out after %u s (its counts are lost)", r->timeout);
        else if (WIFSIGNALED(status))
            snprintf(why, sizeof why,
                     "the runner crashed in this script: signal %d (%s) (its counts are lost)",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(why, sizeof why, "the runner exited with status %d in this script (its counts are lost)",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        file_error(r, new_file_stat(r, fallback), why);
    }
    free(fallback);
    free(buf);
}

static void run_one(runner *r, const char *name, const char *json_path)
{
    if (r->isolate)
        run_script_isolated(r, name, json_path);
    else
        run_script(r, name, json_path);
}

/* Runs the scripts of a list file (see the header comment). Returns false when unreadable. */
static bool run_list(runner *r, const char *list_path)
{
    char err[512];
    size_t len;
    char *text = read_file(list_path, &len, err, sizeof err);
    if (!text) {
        fprintf(stderr, "k23vm-spec-runner: %s\n", err);
        return false;
    }
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl) *nl = '\0';
        if (*line) {
            char *tab = strchr(line, '\t');
            if (!tab) {
                fprintf(stderr, "k23vm-spec-runner: %s: line without a tab: %s\n", list_path, line);
                free(text);
                return false;
            }
            *tab = '\0';
            const char *path = tab + 1;
            if (*path == '!')
                file_error(r, new_file_stat(r, line), path + 1);
            else
                run_one(r, line, path);
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(text);
    return true;
}

/* ---- reports --------------------------------------------------------------------------------------- */

static void json_str_out(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_counts_out(FILE *f, const counts *c)
{
    fprintf(f, "{\"passed\": %lu, \"failed\": %lu, \"skipped\": %lu}", c->passed, c->failed, c->skipped);
}

static bool write_json(const runner *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "k23vm-spec-runner: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "{\n  \"set\": ");
    json_str_out(f, r->set_name);
    fprintf(f, ",\n  \"mode\": ");
    json_str_out(f, r->mode_name);
    fprintf(f, ",\n  \"bounds\": ");
    json_str_out(f, r->bounds_name);
    fprintf(f, ",\n  \"passed\": %lu,\n  \"failed\": %lu,\n  \"skipped\": %lu,\n", r->total.passed,
            r->total.failed, r->total.skipped);
    fprintf(f, "  \"message_mismatches\": %lu,\n  \"file_errors\": %lu,\n  \"by_kind\": {", r->mismatches,
            r->file_errors);
    for (size_t i = 0; i < r->nkinds; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        json_str_out(f, r->kinds[i].name);
        fprintf(f, ": ");
        json_counts_out(f, &r->kinds[i].c);
    }
    fprintf(f, "\n  },\n  \"skip_reasons\": [");
    for (size_t i = 0; i < r->nskips; i++) {
        fprintf(f, "%s\n    {\"kind\": ", i ? "," : "");
        json_str_out(f, r->skips[i].kind);
        fprintf(f, ", \"reason\": ");
        json_str_out(f, r->skips[i].reason);
        fprintf(f, ", \"count\": %lu}", r->skips[i].count);
    }
    fprintf(f, "\n  ],\n  \"files\": {");
    for (size_t i = 0; i < r->nfiles; i++) {
        const file_stat *fs = &r->files[i];
        fprintf(f, "%s\n    ", i ? "," : "");
        json_str_out(f, fs->name);
        fprintf(f, ": {\"passed\": %lu, \"failed\": %lu, \"skipped\": %lu, \"message_mismatches\": %lu",
                fs->c.passed, fs->c.failed, fs->c.skipped, fs->mismatches);
        if (fs->error) {
            fprintf(f, ", \"error\": ");
            json_str_out(f, fs->error);
        }
        fputc('}', f);
    }
    fprintf(f, "\n  }\n}\n");
    bool ok = !ferror(f);
    if (fclose(f) != 0) ok = false;
    if (!ok) fprintf(stderr, "k23vm-spec-runner: error writing %s\n", path);
    return ok;
}

static void print_summary(const runner *r)
{
    printf("\nby kind:%*s passed    failed   skipped\n", 16, "");
    for (size_t i = 0; i < r->nkinds; i++)
        printf("  %-22s %9lu %9lu %9lu\n", r->kinds[i].name, r->kinds[i].c.passed, r->kinds[i].c.failed,
               r->kinds[i].c.skipped);
    if (r->nskips) {
        printf("skipped, by reason:\n");
        for (size_t i = 0; i < r->nskips; i++)
            printf("  %9lu %s: %s\n", r->skips[i].count, r->skips[i].kind, r->skips[i].reason);
    }
    printf("message mismatches (passed, but the VM's message differs from the script's): %lu%s\n",
           r->mismatches, r->mismatches && !r->verbose ? " (-v lists them)" : "");
    if (!embed_can_execute(r->vm))
        printf("note: the VM has no instantiation yet: a module command passes on decode + validate alone\n");
    if (r->file_errors) {
        printf("SCRIPT ERRORS: %lu script(s) could not be converted, read or finished:\n", r->file_errors);
        for (size_t i = 0; i < r->nfiles; i++)
            if (r->files[i].error) printf("  %s: %s\n", r->files[i].name, r->files[i].error);
    }
    printf("%lu passed, %lu failed, %lu skipped\n", r->total.passed, r->total.failed, r->total.skipped);
}

/* ---- main -------------------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: k23vm-spec-runner [--mode interp|jit|tiered] [--bounds guard|explicit] [--set NAME]\n"
            "                         [--json FILE] [--list FILE] [--no-isolate] [--timeout SECONDS] [-v]\n"
            "                         [SCRIPT.json ...]\n"
            "       k23vm-spec-runner --self-test\n");
}

int main(int argc, char **argv)
{
    runner r = {.set_name = "files",
                .mode_name = "interp",
                .bounds_name = "default",
                .isolate = true,
                .timeout = 600};
    k23vm_exec_mode mode = K23VM_MODE_INTERP;
    k23vm_bounds_mode bounds = K23VM_BOUNDS_DEFAULT;
    const char *json_out = NULL;
    size_t nlists = 0, nscripts = 0;
    int status = 2;

    /* Line-buffered, so that the last script reported is visible even if the runner dies. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Sized for the worst case: every argument a list or a script. */
    const char **lists = xrealloc(NULL, (size_t)argc * sizeof *lists);
    const char **scripts = xrealloc(NULL, (size_t)argc * sizeof *scripts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--self-test") == 0) {
            int checks = 0;
            int failed = spec_self_test(&checks);
            printf("self-test: %d of %d checks passed\n", checks - failed, checks);
            status = failed ? 1 : 0;
            goto out;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            r.verbose = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            status = 0;
            goto out;
        } else if (strcmp(a, "--mode") == 0 && has_value) {
            r.mode_name = argv[++i];
            if (strcmp(r.mode_name, "interp") == 0)
                mode = K23VM_MODE_INTERP;
            else if (strcmp(r.mode_name, "jit") == 0)
                mode = K23VM_MODE_JIT;
            else if (strcmp(r.mode_name, "tiered") == 0)
                mode = K23VM_MODE_TIERED;
            else {
                fprintf(stderr, "k23vm-spec-runner: unknown mode %s\n", r.mode_name);
                goto out;
            }
        } else if (strcmp(a, "--bounds") == 0 && has_value) {
            r.bounds_name = argv[++i];
            if (strcmp(r.bounds_name, "guard") == 0)
                bounds = K23VM_BOUNDS_GUARD;
            else if (strcmp(r.bounds_name, "explicit") == 0)
                bounds = K23VM_BOUNDS_EXPLICIT;
            else if (strcmp(r.bounds_name, "default") == 0)
                bounds = K23VM_BOUNDS_DEFAULT;
            else {
                fprintf(stderr, "k23vm-spec-runner: unknown bounds mode %s\n", r.bounds_name);
                goto out;
            }
        } else if (strcmp(a, "--no-isolate") == 0) {
            r.isolate = false;
        } else if (strcmp(a, "--timeout") == 0 && has_value) {
            char *end;
            unsigned long t = strtoul(argv[++i], &end, 10);
            if (*end || t > 86400) {
                fprintf(stderr, "k23vm-spec-runner: bad --timeout %s\n", argv[i]);
                goto out;
            }
            r.timeout = (unsigned)t;
        } else if (strcmp(a, "--set") == 0 && has_value) {
            r.set_name = argv[++i];
        } else if (strcmp(a, "--json") == 0 && has_value) {
            json_out = argv[++i];
        } else if (strcmp(a, "--list") == 0 && has_value) {
            lists[nlists++] = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "k23vm-spec-runner: unknown option or missing value: %s\n", a);
            usage(stderr);
            goto out;
        } else {
            scripts[nscripts++] = a;
        }
    }
    if (nlists == 0 && nscripts == 0) {
        usage(stderr);
        goto out;
    }

    char err[512];
    r.vm = embed_new(mode, bounds, err, sizeof err);
    if (!r.vm) {
        fprintf(stderr, "k23vm-spec-runner: cannot create an engine (mode %s, bounds %s): %s\n", r.mode_name,
                r.bounds_name, err);
        goto out;
    }
    /* The known kinds first, so that the summary always lists them, zeros included. */
    for (size_t i = 0; i < N_KNOWN_KINDS; i++) kind_for(&r, known_kinds[i]);

    bool ok = true;
    for (size_t i = 0; i < nlists; i++) ok = run_list(&r, lists[i]) && ok;
    for (size_t i = 0; i < nscripts; i++) run_one(&r, NULL, scripts[i]);
    if (json_out && !write_json(&r, json_out)) ok = false;
    print_summary(&r);
    status = !ok ? 2 : (r.total.failed || r.file_errors) ? 1 : 0;

out:
    embed_delete(r.vm);
    for (size_t i = 0; i < r.nkinds; i++) free(r.kinds[i].name);
    for (size_t i = 0; i < r.nskips; i++) {
        free(r.skips[i].kind);
        free(r.skips[i].reason);
    }
    for (size_t i = 0; i < r.nfiles; i++) {
        free(r.files[i].name);
        free(r.files[i].error);
    }
    free(r.kinds);
    free(r.skips);
    free(r.files);
    free(lists);
    free(scripts);
    return status;
}
