/* testutil.h - helpers shared by the cmocka tests that build modules from the text format:
 * wat() runs Debian's wat2wasm (with the name section, for backtraces), ok() fails the test on
 * an error value, and a few builders make engines, modules and look up exports. Include after
 * <cmocka.h>. */
#ifndef K23VM_TESTUTIL_H
#define K23VM_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k23vm.h"

/* The binary module for a text module; the caller frees the bytes. */
__attribute__((unused)) static uint8_t *wat(const char *text, size_t *len)
{
    char in[] = "/tmp/k23vm-test-XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char out[64], cmd[256];
    snprintf(out, sizeof out, "%s.wasm", in);
    snprintf(cmd, sizeof cmd, "wat2wasm --debug-names %s -o %s", in, out);
    int rc = system(cmd);
    unlink(in);
    if (rc != 0) fail_msg("wat2wasm failed on:\n%s", text);
    FILE *f = fopen(out, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(out);
    *len = (size_t)n;
    return buf;
}

/* Fails the test with err's message when err is not NULL. */
__attribute__((unused)) static void ok(k23vm_error *err)
{
    if (err) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", k23vm_error_message(err));
        k23vm_error_delete(err);
        fail_msg("unexpected error: %s", copy);
    }
}

/* An engine with the given bounds mode and allocator (pools at their defaults). */
__attribute__((unused)) static k23vm_engine *engine_with(k23vm_bounds_mode bounds, k23vm_allocator_kind alloc)
{
    k23vm_engine_config cfg;
    k23vm_engine_config_init(&cfg);
    cfg.bounds = bounds;
    cfg.allocator = alloc;
    k23vm_engine *e = NULL;
    ok(k23vm_engine_new(&cfg, &e));
    return e;
}

/* A validated module from the text format. */
__attribute__((unused)) static k23vm_module *module_of(k23vm_engine *e, const char *text)
{
    size_t len;
    uint8_t *bytes = wat(text, &len);
    k23vm_module *m = NULL;
    ok(k23vm_module_new(e, bytes, len, &m));
    free(bytes);
    return m;
}

/* The function an instance exports as name; fails the test when there is none. */
__attribute__((unused)) static k23vm_func *func_of(k23vm_instance *inst, const char *name)
{
    k23vm_extern x;
    if (!k23vm_instance_export(inst, name, strlen(name), &x) || x.kind != K23VM_EXTERN_FUNC)
        fail_msg("no function export %s", name);
    return x.of.func;
}

#endif
