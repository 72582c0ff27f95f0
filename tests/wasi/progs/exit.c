/* exit.c - WASI test program: how a program ends. argv[1] says how:
 *   return0  returns 0 from main          exit3   calls exit(3)
 *   return7  returns 7 from main          exit255 calls proc_exit(255) directly
 *   trap     reaches `unreachable` in crash_here(), called through crash_caller(): a trap
 * Each prints a line first (stdout must be flushed at exit). */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <wasi/api.h>

__attribute__((noinline)) void crash_here(int how)
{
    if (how)
        __builtin_trap();
}

__attribute__((noinline)) void crash_caller(int how)
{
    crash_here(how);
    printf("not reached\n");
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    printf("exit test: %s", how); /* no newline: exit must flush it */
    if (!strcmp(how, "exit3"))
        exit(3);
    if (!strcmp(how, "return7"))
        return 7;
    if (!strcmp(how, "exit255")) {
        fflush(stdout);
        __wasi_proc_exit(255);
    }
    if (!strcmp(how, "trap")) {
        fflush(stdout);
        crash_caller(argc);
    }
    return 0;
}
