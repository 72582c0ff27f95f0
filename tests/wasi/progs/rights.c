/* rights.c - WASI test program: rights. A file opened read-only cannot be written (nor truncated);
 * one opened write-only cannot be read; rights dropped with fd_fdstat_set_rights are gone
 * (ENOTCAPABLE) and cannot be added back; path_open with only some rights gets no more. The
 * harness checks that ro.txt ("read only\n") is unchanged on the host afterwards. */
#include <fcntl.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
    char buf[64];
    CHECK(chdir("/sandbox") == 0, "chdir /sandbox");
    int fd = open("ro.txt", O_RDONLY);
    CHECK(fd >= 0, "open ro.txt read-only");
    errno = 0;
    ssize_t w = write(fd, "X", 1);
    int e = errno;
    CHECK(w == -1 && (e == EBADF || e == ENOTCAPABLE), "write to the read-only fd fails (EBADF or ENOTCAPABLE)");
    errno = 0;
    int t = ftruncate(fd, 0);
    e = errno;
    CHECK(t == -1 && (e == EBADF || e == EINVAL || e == ENOTCAPABLE), "ftruncate of the read-only fd fails");
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, sizeof buf, 0) == 10 && !strcmp(buf, "read only\n"), "ro.txt unchanged");
    __wasi_fdstat_t st;
    CHECK(__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0 && (st.fs_rights_base & __WASI_RIGHTS_FD_READ) &&
              !(st.fs_rights_base & __WASI_RIGHTS_FD_WRITE),
          "fdstat: read right, no write right");
    close(fd);

    fd = open("wo.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "abc", 3) == 3, "open wo.txt write-only, write");
    errno = 0;
    ssize_t r = pread(fd, buf, 3, 0);
    e = errno;
    CHECK(r == -1 && (e == EBADF || e == ENOTCAPABLE), "pread from the write-only fd fails (EBADF or ENOTCAPABLE)");
    close(fd);

    /* fd_fdstat_set_rights: drop FD_READ, then reading is not capable */
    fd = open("ro.txt", O_RDONLY);
    CHECK(__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0, "fdstat of a new ro.txt fd");
    __wasi_rights_t base = st.fs_rights_base, inh = st.fs_rights_inheriting;
    CHECK_WASI(__wasi_fd_fdstat_set_rights((__wasi_fd_t)fd, base & ~(__wasi_rights_t)__WASI_RIGHTS_FD_READ, inh), 0,
               "fd_fdstat_set_rights without FD_READ");
    __wasi_iovec_t iov = {(uint8_t *)buf, 4};
    __wasi_size_t nread;
    CHECK_WASI(__wasi_fd_read((__wasi_fd_t)fd, &iov, 1, &nread), __WASI_ERRNO_NOTCAPABLE, "fd_read after dropping FD_READ");
    CHECK_WASI(__wasi_fd_fdstat_set_rights((__wasi_fd_t)fd, base, inh), __WASI_ERRNO_NOTCAPABLE,
               "adding FD_READ back");
    CHECK(__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0 && !(st.fs_rights_base & __WASI_RIGHTS_FD_READ),
          "fdstat: FD_READ still gone");
    close(fd);

    /* path_open with read but not seek rights: seeking is not capable */
    __wasi_fd_t nfd;
    CHECK_WASI(__wasi_path_open(3, 0, "ro.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &nfd), 0,
               "path_open ro.txt with only FD_READ");
    __wasi_filesize_t off;
    CHECK_WASI(__wasi_fd_seek(nfd, 0, __WASI_WHENCE_END, &off), __WASI_ERRNO_NOTCAPABLE, "fd_seek without FD_SEEK");
    CHECK_WASI(__wasi_fd_read(nfd, &iov, 1, &nread), 0, "fd_read with FD_READ");
    CHECK(nread == 4 && !memcmp(buf, "read", 4), "read 'read'");
    CHECK(__wasi_fd_close(nfd) == 0, "close it");

    /* a directory's inheriting rights bound what opens beneath it get */
    __wasi_fd_t dfd;
    CHECK_WASI(__wasi_path_open(3, 0, ".", __WASI_OFLAGS_DIRECTORY,
                                __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR, __WASI_RIGHTS_FD_READ, 0, &dfd),
               0, "path_open . with inheriting rights FD_READ only");
    CHECK_WASI(__wasi_path_open(dfd, 0, "ro.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &nfd), __WASI_ERRNO_NOTCAPABLE,
               "opening for write beneath it");
    CHECK_WASI(__wasi_path_create_directory(dfd, "newdir"), __WASI_ERRNO_NOTCAPABLE,
               "path_create_directory without the right");
    CHECK(__wasi_fd_close(dfd) == 0, "close it");
    return check_done();
}
