/* testutil.h - helpers shared by the cmocka tests that build modules from the text format:
 * wat() runs Debian's wat2wasm (with the name section, for backtraces) and ok() fails the test on
 * an error value. Include after <cmocka.h>. */
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

#endif
