/* test_api.c - cmocka tests of the public API (include/k23vm.h) as an embedder sees it: engines,
 * modules, the import/export queries, error values for bad arguments and bad bytes, and every
 * allocation failure injected one at a time through a custom k23vm_platform: each must give a
 * clean K23VM_ERROR_RESOURCE error and leave no block behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k23vm.h"

/* ---- helpers ----------------------------------------------------------------------------------- */

static const uint8_t minimal[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

static uint8_t *read_data(const char *name, size_t *size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", K23VM_TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static k23vm_engine *new_engine(void)
{
    k23vm_engine *e = NULL;
    k23vm_error *err = k23vm_engine_new(NULL, &e);
    if (err) fail_msg("k23vm_engine_new: %s", k23vm_error_message(err));
    assert_non_null(e);
    return e;
}

static bool name_is(k23vm_name n, const char *s) { return n.len == strlen(s) && !memcmp(n.ptr, s, n.len); }

/* Asserts that err is an error of the given kind with a message that starts with one of the
 * '|'-separated prefixes (the spec's wording; detail may follow) and, unless offset is ANY_OFFSET,
 * the given offset. Frees err. */
#define ANY_OFFSET (SIZE_MAX - 1)
static bool has_prefix(const char *msg, const char *prefixes)
{
    for (const char *p = prefixes;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (!strncmp(msg, p, n)) return true;
        if (!bar) return false;
        p = bar + 1;
    }
}

static void check_error(k23vm_error *err, k23vm_error_kind kind, const char *prefixes, size_t offset)
{
    assert_non_null(err);
    const char *msg = k23vm_error_message(err);
    assert_non_null(msg);
    if (k23vm_error_kind_of(err) != kind || !has_prefix(msg, prefixes))
        fail_msg("expected kind %d \"%s\", got kind %d \"%s\" at %zu", (int)kind, prefixes,
                 (int)k23vm_error_kind_of(err), msg, k23vm_error_offset(err));
    if (offset != ANY_OFFSET) assert_int_equal(k23vm_error_offset(err), offset);
    k23vm_error_delete(err);
}

/* ---- engines ----------------------------------------------------------------------------------- */

static void engine_new_delete(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    k23vm_engine_delete(e);

    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    assert_null(cfg.platform);
    k23vm_error *err = k23vm_engine_new(&cfg, &e);
    assert_null(err);
    assert_non_null(e);
    k23vm_engine_delete(e);

    cfg.platform = k23vm_platform_default();
    err = k23vm_engine_new(&cfg, &e);
    assert_null(err);
    k23vm_engine_delete(e);

    k23vm_engine_delete(NULL);
}

static void engine_bad_arguments(void **state)
{
    (void)state;
    check_error(k23vm_engine_new(NULL, NULL), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
}

/* ---- modules ----------------------------------------------------------------------------------- */

static void module_minimal(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    k23vm_module *m = NULL;
    k23vm_error *err = k23vm_module_new(e, minimal, sizeof minimal, &m);
    if (err) fail_msg("minimal module rejected: %s", k23vm_error_message(err));
    assert_non_null(m);
    assert_int_equal(k23vm_module_import_count(m), 0);
    assert_int_equal(k23vm_module_export_count(m), 0);
    k23vm_import im;
    k23vm_export ex;
    assert_false(k23vm_module_import(m, 0, &im));
    assert_false(k23vm_module_export(m, 0, &ex));
    k23vm_name n;
    assert_false(k23vm_module_func_name(m, 0, &n));
    k23vm_module_delete(m);
    k23vm_module_delete(NULL);

    assert_null(k23vm_module_validate(e, minimal, sizeof minimal));
    k23vm_engine_delete(e);
}

/* The module keeps its own copy of the bytes. */
static void module_copies_bytes(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    size_t size;
    uint8_t *bytes = read_data("api.wasm", &size);
    k23vm_module *m = NULL;
    assert_null(k23vm_module_new(e, bytes, size, &m));
    memset(bytes, 0xee, size);
    free(bytes);
    k23vm_export ex;
    assert_true(k23vm_module_export(m, 0, &ex));
    assert_true(name_is(ex.name, "add"));
    k23vm_module_delete(m);
    k23vm_engine_delete(e);
}

static void module_bad_arguments(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    k23vm_module *m = (k23vm_module *)&m; /* must be overwritten with NULL */
    check_error(k23vm_module_new(NULL, minimal, sizeof minimal, &m), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
    assert_null(m);
    m = (k23vm_module *)&m;
    check_error(k23vm_module_new(e, NULL, 8, &m), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
    assert_null(m);
    check_error(k23vm_module_new(e, minimal, sizeof minimal, NULL), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
    check_error(k23vm_module_validate(NULL, minimal, sizeof minimal), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
    check_error(k23vm_module_validate(e, NULL, 8), K23VM_ERROR_ARGUMENT, "", ANY_OFFSET);
    k23vm_engine_delete(e);
}

static void module_malformed(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    k23vm_module *m = (k23vm_module *)&m;

    check_error(k23vm_module_new(e, minimal, 0, &m), K23VM_ERROR_MALFORMED, "unexpected end", ANY_OFFSET);
    assert_null(m);
    check_error(k23vm_module_new(e, minimal, 6, &m), K23VM_ERROR_MALFORMED, "unexpected end", ANY_OFFSET);

    static const uint8_t bad_magic[] = {0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00};
    check_error(k23vm_module_new(e, bad_magic, sizeof bad_magic, &m), K23VM_ERROR_MALFORMED,
                "magic header not detected", 0);
    static const uint8_t text[] = "(module)";
    check_error(k23vm_module_new(e, text, sizeof text - 1, &m), K23VM_ERROR_MALFORMED,
                "magic header not detected", 0);
    static const uint8_t bad_version[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
    check_error(k23vm_module_new(e, bad_version, sizeof bad_version, &m), K23VM_ERROR_MALFORMED,
                "unknown binary version", 4);

    /* A type section that claims 16 bytes but has 1. */
    static const uint8_t short_section[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00};
    check_error(k23vm_module_new(e, short_section, sizeof short_section, &m), K23VM_ERROR_MALFORMED,
                "unexpected end|length out of bounds", ANY_OFFSET);
    /* Section id 14 does not exist. */
    static const uint8_t bad_id[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x00};
    check_error(k23vm_module_new(e, bad_id, sizeof bad_id, &m), K23VM_ERROR_MALFORMED, "malformed section id",
                8);
    assert_null(m);
    check_error(k23vm_module_validate(e, bad_id, sizeof bad_id), K23VM_ERROR_MALFORMED,
                "malformed section id", 8);
    k23vm_engine_delete(e);
}

static void module_invalid(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    k23vm_module *m = (k23vm_module *)&m;
    /* (module (func (result i32) i64.const 0)) */
    static const uint8_t mismatch[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, /* header */
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,       /* type: () -> i32 */
        0x03, 0x02, 0x01, 0x00,                         /* function: type 0 */
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b, /* code: i64.const 0; end */
    };
    check_error(k23vm_module_new(e, mismatch, sizeof mismatch, &m), K23VM_ERROR_INVALID, "type mismatch",
                ANY_OFFSET);
    assert_null(m);
    check_error(k23vm_module_validate(e, mismatch, sizeof mismatch), K23VM_ERROR_INVALID, "type mismatch",
                ANY_OFFSET);

    /* (module (func call 5)): unknown function */
    static const uint8_t unknown_func[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00,
        0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x05, 0x0b,
    };
    check_error(k23vm_module_new(e, unknown_func, sizeof unknown_func, &m), K23VM_ERROR_INVALID,
                "unknown function", ANY_OFFSET);
    k23vm_engine_delete(e);
}

/* api.wat: one of each kind of import and export. */
static void check_api_module(const k23vm_module *m)
{
    assert_int_equal(k23vm_module_import_count(m), 4);
    k23vm_import im;
    assert_true(k23vm_module_import(m, 0, &im));
    assert_true(name_is(im.module, "env"));
    assert_true(name_is(im.name, "f"));
    assert_int_equal(im.type.kind, K23VM_EXTERN_FUNC);
    assert_int_equal(im.type.u.func.nparams, 2);
    assert_int_equal(im.type.u.func.params[0], K23VM_I32);
    assert_int_equal(im.type.u.func.params[1], K23VM_I64);
    assert_int_equal(im.type.u.func.nresults, 1);
    assert_int_equal(im.type.u.func.results[0], K23VM_F32);

    assert_true(k23vm_module_import(m, 1, &im));
    assert_true(name_is(im.name, "mem"));
    assert_int_equal(im.type.kind, K23VM_EXTERN_MEMORY);
    assert_int_equal(im.type.u.memory.limits.min, 1);
    assert_true(im.type.u.memory.limits.has_max);
    assert_int_equal(im.type.u.memory.limits.max, 2);

    assert_true(k23vm_module_import(m, 2, &im));
    assert_true(name_is(im.name, "tab"));
    assert_int_equal(im.type.kind, K23VM_EXTERN_TABLE);
    assert_int_equal(im.type.u.table.elem, K23VM_FUNCREF);
    assert_int_equal(im.type.u.table.limits.min, 3);
    assert_false(im.type.u.table.limits.has_max);

    assert_true(k23vm_module_import(m, 3, &im));
    assert_true(name_is(im.name, "g"));
    assert_int_equal(im.type.kind, K23VM_EXTERN_GLOBAL);
    assert_int_equal(im.type.u.global.type, K23VM_F64);
    assert_true(im.type.u.global.is_mutable);
    assert_false(k23vm_module_import(m, 4, &im));

    assert_int_equal(k23vm_module_export_count(m), 5);
    static const char *const names[] = {"add", "g2", "mem", "tab", "countdown"};
    static const k23vm_externkind kinds[] = {K23VM_EXTERN_FUNC, K23VM_EXTERN_GLOBAL, K23VM_EXTERN_MEMORY,
                                             K23VM_EXTERN_TABLE, K23VM_EXTERN_FUNC};
    for (size_t i = 0; i < 5; i++) {
        k23vm_export ex;
        assert_true(k23vm_module_export(m, i, &ex));
        if (!name_is(ex.name, names[i])) fail_msg("export %zu: expected %s", i, names[i]);
        assert_int_equal(ex.type.kind, kinds[i]);
    }
    k23vm_export ex;
    assert_true(k23vm_module_export(m, 0, &ex));
    assert_int_equal(ex.type.u.func.nparams, 2);
    assert_int_equal(ex.type.u.func.nresults, 1);
    assert_int_equal(ex.type.u.func.results[0], K23VM_I32);
    assert_true(k23vm_module_export(m, 1, &ex));
    assert_int_equal(ex.type.u.global.type, K23VM_I32);
    assert_false(ex.type.u.global.is_mutable);
    assert_true(k23vm_module_export(m, 4, &ex));
    assert_int_equal(ex.type.u.func.nparams, 1);
    assert_false(k23vm_module_export(m, 5, &ex));

    k23vm_name n;
    assert_true(k23vm_module_func_name(m, 0, &n));
    assert_true(name_is(n, "f"));
    assert_true(k23vm_module_func_name(m, 2, &n));
    assert_true(name_is(n, "countdown"));
    assert_false(k23vm_module_func_name(m, 4, &n));
}

static void module_imports_exports(void **state)
{
    (void)state;
    k23vm_engine *e = new_engine();
    size_t size;
    uint8_t *bytes = read_data("api.wasm", &size);
    k23vm_module *m = NULL;
    k23vm_error *err = k23vm_module_new(e, bytes, size, &m);
    if (err) fail_msg("api.wasm rejected: %s at %zu", k23vm_error_message(err), k23vm_error_offset(err));
    check_api_module(m);
    k23vm_module_delete(m);
    assert_null(k23vm_module_validate(e, bytes, size));
    free(bytes);
    k23vm_engine_delete(e);
}

/* ---- allocation failure injection -------------------------------------------------------------- */

/* Every block carries a header with its size, so that the platform contract (free and realloc get
 * the size the block was allocated with) is checked too. */
typedef struct inject {
    long calls;   /* alloc + realloc calls so far */
    long fail_at; /* the call with this number fails (and all after it when sticky) */
    bool sticky;
    long failures;   /* how many calls failed */
    long live;       /* blocks allocated and not freed */
    bool size_error; /* free/realloc saw a size that does not match */
} inject;

#define HDR 16

static bool inject_fails(inject *in)
{
    long n = in->calls++;
    bool fail = in->sticky ? n >= in->fail_at : n == in->fail_at;
    if (fail) in->failures++;
    return fail;
}

static void *inj_alloc(void *ctx, size_t size)
{
    inject *in = ctx;
    if (inject_fails(in)) return NULL;
    uint8_t *p = malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    in->live++;
    return p + HDR;
}

static void *inj_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    inject *in = ctx;
    if (!ptr) return inj_alloc(ctx, new_size);
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t recorded;
    memcpy(&recorded, p, sizeof recorded);
    if (recorded != old_size) in->size_error = true;
    if (inject_fails(in)) return NULL;
    uint8_t *q = realloc(p, new_size + HDR);
    if (!q) return NULL;
    memcpy(q, &new_size, sizeof new_size);
    return q + HDR;
}

static void inj_free(void *ctx, void *ptr, size_t size)
{
    inject *in = ctx;
    if (!ptr) return;
    uint8_t *p = (uint8_t *)ptr - HDR;
    size_t recorded;
    memcpy(&recorded, p, sizeof recorded);
    if (recorded != size) in->size_error = true;
    in->live--;
    free(p);
}

static k23vm_platform inject_platform(inject *in)
{
    k23vm_platform p = *k23vm_platform_default();
    p.ctx = in;
    p.alloc = inj_alloc;
    p.realloc = inj_realloc;
    p.free = inj_free;
    return p;
}

/* Runs engine_new + module_new(bytes) + delete with the fail_at-th allocation failing; returns
 * true when everything succeeded (no allocation was made to fail). */
static bool run_injected(inject *in, const uint8_t *bytes, size_t size, bool validate_only)
{
    k23vm_platform plat = inject_platform(in);
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.platform = &plat;

    k23vm_engine *e = (k23vm_engine *)&e;
    k23vm_error *err = k23vm_engine_new(&cfg, &e);
    bool ok = true;
    if (err) {
        assert_int_equal(k23vm_error_kind_of(err), K23VM_ERROR_RESOURCE);
        assert_null(e);
        k23vm_error_delete(err);
        assert_int_equal(in->live, 0);
        return false;
    }
    assert_non_null(e);
    if (validate_only) {
        err = k23vm_module_validate(e, bytes, size);
    } else {
        k23vm_module *m = (k23vm_module *)&m;
        err = k23vm_module_new(e, bytes, size, &m);
        if (err) {
            assert_null(m);
        } else {
            assert_non_null(m);
            check_api_module(m);
            k23vm_module_delete(m);
        }
    }
    if (err) {
        if (k23vm_error_kind_of(err) != K23VM_ERROR_RESOURCE)
            fail_msg("allocation %ld failed (sticky %d) and gave kind %d: %s", in->fail_at, in->sticky,
                     (int)k23vm_error_kind_of(err), k23vm_error_message(err));
        k23vm_error_delete(err);
        ok = false;
    }
    k23vm_engine_delete(e);
    if (in->live != 0)
        fail_msg("allocation %ld failed (sticky %d): %ld blocks leaked", in->fail_at, in->sticky, in->live);
    assert_false(in->size_error);
    return ok && in->failures == 0;
}

static void inject_failures(bool validate_only)
{
    size_t size;
    uint8_t *bytes = read_data("api.wasm", &size);

    /* First count the allocations of a clean run. */
    inject clean = {.fail_at = -1};
    assert_true(run_injected(&clean, bytes, size, validate_only));
    assert_true(clean.calls > 0);
    print_message("%s: %ld allocations, each made to fail in turn\n",
                  validate_only ? "validate" : "module_new", clean.calls);

    for (int sticky = 0; sticky < 2; sticky++) {
        for (long i = 0; i < clean.calls; i++) {
            inject in = {.fail_at = i, .sticky = sticky};
            /* Either a clean RESOURCE error or, where the library can do without the block, a
             * correct result; never a leak or a crash (run_injected checks). */
            run_injected(&in, bytes, size, validate_only);
        }
    }
    free(bytes);
}

static void alloc_failures_module_new(void **state)
{
    (void)state;
    inject_failures(false);
}

static void alloc_failures_validate(void **state)
{
    (void)state;
    inject_failures(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(engine_new_delete),
        cmocka_unit_test(engine_bad_arguments),
        cmocka_unit_test(module_minimal),
        cmocka_unit_test(module_copies_bytes),
        cmocka_unit_test(module_bad_arguments),
        cmocka_unit_test(module_malformed),
        cmocka_unit_test(module_invalid),
        cmocka_unit_test(module_imports_exports),
        cmocka_unit_test(alloc_failures_module_new),
        cmocka_unit_test(alloc_failures_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
