/* args_env.c - WASI test program: args_sizes_get/args_get and environ_sizes_get/environ_get.
 * Prints its arguments after argv[0] (which runtimes name differently) and its whole
 * environment, sorted; the harness passes known arguments and --env values, and sets a host
 * variable that must not reach the guest. */
#include <stdlib.h>

#include "check.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = [%s]\n", i, argv[i]);
    size_t n = 0;
    while (environ[n])
        n++;
    qsort(environ, n, sizeof *environ, cmp);
    printf("environ %zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("env [%s]\n", environ[i]);
    const char *v = getenv("K23VM_TEST_B");
    CHECK(v && !strcmp(v, "two words = x"), "getenv K23VM_TEST_B");
    CHECK(getenv("K23VM_HOST_SECRET") == NULL, "host environment not passed through");

    /* the raw calls agree with what libc made of them */
    __wasi_size_t argc2, argsz, envc, envsz;
    CHECK(__wasi_args_sizes_get(&argc2, &argsz) == 0 && argc2 == (__wasi_size_t)argc, "args_sizes_get");
    CHECK(__wasi_environ_sizes_get(&envc, &envsz) == 0 && envc == n, "environ_sizes_get");
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(environ[i]) + 1;
    CHECK(envsz == total, "environ buffer size %zu", total);
    return check_done();
}
