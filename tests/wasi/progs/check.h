/* check.h - helpers shared by the WASI test programs (tests/wasi/progs/), which are compiled to
 * wasm32-wasi and run by tests/wasi/run-test.sh under `k23vm run` (and node:wasi as a reference).
 * CHECK prints "ok: WHAT" or "FAIL: WHAT (errno NAME)" and counts failures; a program ends with
 * `return check_done();`, so its exit status is the number of failures. The harness compares the
 * printed lines with tests/wasi/expected/PROG.txt. */
#ifndef K23VM_WASI_TEST_CHECK_H
#define K23VM_WASI_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int check_failures;

/* Names of the errno values the tests expect (wasi-libc's errno is the WASI errno). */
static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTSUP: return "ENOTSUP";
    case ENOTSOCK: return "ENOTSOCK";
    case EPERM: return "EPERM";
    case ESPIPE: return "ESPIPE";
    case EXDEV: return "EXDEV";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    default: {
        static char bufs[4][24];
        static int next;
        char *buf = bufs[next++ & 3];
        snprintf(buf, sizeof bufs[0], "errno %d", e);
        return buf;
    }
    }
}

#define CHECK(cond, ...)                                                                            \
    do {                                                                                            \
        errno = 0;                                                                                  \
        int check_ok_ = (cond);                                                                     \
        int check_errno_ = errno;                                                                   \
        printf(check_ok_ ? "ok: " : "FAIL: ");                                                      \
        printf(__VA_ARGS__);                                                                        \
        if (!check_ok_) {                                                                           \
            printf(" (errno %s)", errno_name(check_errno_));                                        \
            check_failures++;                                                                       \
        }                                                                                           \
        printf("\n");                                                                               \
    } while (0)

/* A libc call that must fail with errno E: "ok: WHAT -> E", or FAIL with what it did. */
#define CHECK_ERRNO(call, e, ...)                                                                   \
    do {                                                                                            \
        errno = 0;                                                                                  \
        long check_r_ = (long)(call);                                                               \
        int check_errno_ = errno;                                                                   \
        int check_ok_ = check_r_ == -1 && check_errno_ == (e);                                      \
        printf(check_ok_ ? "ok: " : "FAIL: ");                                                      \
        printf(__VA_ARGS__);                                                                        \
        if (check_ok_)                                                                              \
            printf(" -> %s\n", errno_name(e));                                                      \
        else {                                                                                      \
            printf(" -> returned %ld, errno %s, expected %s\n", check_r_,                         \
                   errno_name(check_errno_), errno_name(e));                                        \
            check_failures++;                                                                       \
        }                                                                                           \
    } while (0)

/* A raw WASI call that must return the WASI errno E (0 for success). */
#define CHECK_WASI(call, e, ...)                                                                    \
    do {                                                                                            \
        int check_r_ = (call);                                                                      \
        int check_ok_ = check_r_ == (e);                                                            \
        printf(check_ok_ ? "ok: " : "FAIL: ");                                                      \
        printf(__VA_ARGS__);                                                                        \
        if (check_ok_)                                                                              \
            printf(" -> %s\n", errno_name(e));                                                      \
        else {                                                                                      \
            printf(" -> %s, expected %s\n", errno_name(check_r_), errno_name(e));                   \
            check_failures++;                                                                       \
        }                                                                                           \
    } while (0)

static int check_done(void)
{
    printf("%d failures\n", check_failures);
    fflush(stdout);
    return check_failures > 125 ? 125 : check_failures;
}

#endif
