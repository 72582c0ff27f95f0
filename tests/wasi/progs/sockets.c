/* sockets.c - WASI test program: the sock_* calls on descriptors that are not sockets (stdout, a
 * preopened directory, a file) are ENOTSOCK; on descriptors that do not exist, EBADF. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    char buf[8];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    __wasi_roflags_t roflags;
    __wasi_fd_t fd;
    CHECK_WASI(__wasi_sock_recv(1, &iov, 1, 0, &n, &roflags), __WASI_ERRNO_NOTSOCK, "sock_recv on stdout");
    CHECK_WASI(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK, "sock_send on stdout");
    CHECK_WASI(__wasi_sock_shutdown(1, __WASI_SDFLAGS_RD), __WASI_ERRNO_NOTSOCK, "sock_shutdown on stdout");
    CHECK_WASI(__wasi_sock_accept(3, 0, &fd), __WASI_ERRNO_NOTSOCK, "sock_accept on the preopen");
    int f = open("/sandbox/file", O_CREAT | O_RDWR, 0644);
    CHECK(f >= 0, "create a file");
    CHECK_WASI(__wasi_sock_recv((__wasi_fd_t)f, &iov, 1, 0, &n, &roflags), __WASI_ERRNO_NOTSOCK, "sock_recv on a file");
    CHECK_ERRNO(shutdown(f, SHUT_RDWR), ENOTSOCK, "shutdown() on a file");
    CHECK_WASI(__wasi_sock_send(99, &ciov, 1, 0, &n), __WASI_ERRNO_BADF, "sock_send on fd 99");
    return check_done();
}
