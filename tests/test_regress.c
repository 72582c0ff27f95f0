/* test_regress.c - runs every file in tests/regress/ through k23vm_module_new and
 * k23vm_module_validate. The files are inputs that once crashed or misbehaved (most found by the
 * fuzzer, fuzz/fuzz_module.c); each must now be accepted or rejected with a well-formed error, and
 * never crash, hang or leak (the ASan build runs this test too). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k23vm.h"

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* An exact-size heap copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void check_one(k23vm_engine *e, const char *path)
{
    size_t size;
    uint8_t *bytes = slurp(path, &size);
    k23vm_module *m = NULL;
    k23vm_error *err = k23vm_module_new(e, bytes, size, &m);
    if (err) {
        assert_null(m);
        k23vm_error_kind kind = k23vm_error_kind_of(err);
        assert_true(kind >= K23VM_ERROR_MALFORMED && kind <= K23VM_ERROR_ARGUMENT);
        assert_non_null(k23vm_error_message(err));
        size_t off = k23vm_error_offset(err);
        if (off != SIZE_MAX && off > size)
            fail_msg("%s: error offset %zu beyond the %zu bytes", path, off, size);
    } else {
        assert_non_null(m);
        for (size_t i = 0, n = k23vm_module_import_count(m); i < n; i++) {
            k23vm_import im;
            assert_true(k23vm_module_import(m, i, &im));
        }
        for (size_t i = 0, n = k23vm_module_export_count(m); i < n; i++) {
            k23vm_export ex;
            assert_true(k23vm_module_export(m, i, &ex));
        }
    }
    /* Validation without a module must reach the same verdict. */
    k23vm_error *err2 = k23vm_module_validate(e, bytes, size);
    if ((err == NULL) != (err2 == NULL))
        fail_msg("%s: module_new says %s, module_validate says %s", path,
                 err ? k23vm_error_message(err) : "ok", err2 ? k23vm_error_message(err2) : "ok");
    k23vm_error_delete(err);
    k23vm_error_delete(err2);
    k23vm_module_delete(m);
    free(bytes);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void regress_inputs(void **state)
{
    (void)state;
    k23vm_engine *e = NULL;
    k23vm_error *err = k23vm_engine_new(NULL, &e);
    if (err) fail_msg("k23vm_engine_new: %s", k23vm_error_message(err));

    DIR *d = opendir(K23VM_REGRESS_DIR);
    if (!d) fail_msg("cannot open %s", K23VM_REGRESS_DIR);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.' || !strcmp(ent->d_name, "README.md")) continue;
        names = realloc(names, (n + 1) * sizeof *names);
        assert_non_null(names);
        names[n] = strdup(ent->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", K23VM_REGRESS_DIR, names[i]);
        check_one(e, path);
        free(names[i]);
    }
    free(names);
    print_message("checked %zu regression inputs\n", n);
    k23vm_engine_delete(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regress_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
