/* stdio.c - WASI test program: the standard streams. Reads all of stdin (the harness feeds a
 * known text), writes it to stdout upper-cased with its byte and line counts, and writes a line to
 * stderr; also writes through fd_write with several iovecs, and checks fd_fdstat_get on 0, 1, 2. */
#include <ctype.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    static char buf[1 << 16];
    size_t len = 0;
    ssize_t n;
    while ((n = read(0, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    CHECK(n == 0, "read stdin to its end");
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += buf[i] == '\n';
        buf[i] = (char)toupper((unsigned char)buf[i]);
    }
    printf("stdin: %zu bytes, %zu lines\n", len, lines);
    fwrite(buf, 1, len, stdout);
    fflush(stdout);

    __wasi_ciovec_t iov[3] = {{(const uint8_t *)"gathered ", 9}, {(const uint8_t *)"write", 5},
                              {(const uint8_t *)"\n", 1}};
    __wasi_size_t written = 0;
    CHECK(__wasi_fd_write(1, iov, 3, &written) == 0 && written == 15, "fd_write with 3 iovecs");
    fprintf(stderr, "this goes to stderr\n");
    __wasi_fdstat_t st;
    for (int fd = 0; fd < 3; fd++)
        CHECK(__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0, "fd_fdstat_get(%d)", fd);
    CHECK((st.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0, "stderr has the write right");
    CHECK_WASI(__wasi_fd_fdstat_get(77, &st), __WASI_ERRNO_BADF, "fd_fdstat_get(77)");
    char c;
    CHECK(read(0, &c, 1) == 0, "stdin stays at its end");
    return check_done();
}
