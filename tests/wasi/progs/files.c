/* files.c - WASI test program: regular files in the preopened directory /sandbox (fd_write, fd_read,
 * fd_pread/fd_pwrite, fd_seek/fd_tell, fd_filestat_set_size, fd_filestat_get, fd_filestat_set_times,
 * path_filestat_set_times, fd_sync/fd_datasync, fd_advise, fd_allocate, fd_fdstat_set_flags (append),
 * fd_renumber, path_rename, path_link, path_symlink/path_readlink, path_unlink_file). Leaves
 * final.txt ("final contents\n", mtime 1000000000) and hard.txt for the harness to check on the host. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static int read_all(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

int main(void)
{
    char buf[256];
    struct stat st;
    CHECK(chdir("/sandbox") == 0, "chdir /sandbox");

    /* create, write, read back */
    int fd = open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK(fd >= 0, "create a.txt");
    CHECK_ERRNO(open("a.txt", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST, "O_EXCL on existing a.txt");
    CHECK(write(fd, "hello world", 11) == 11, "write 11 bytes");
    CHECK(lseek(fd, 0, SEEK_CUR) == 11, "tell after write is 11");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek to 0");
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, sizeof buf) == 11 && !memcmp(buf, "hello world", 11), "read back 'hello world'");
    CHECK(read(fd, buf, sizeof buf) == 0, "read at end gives 0");

    /* pread/pwrite leave the offset alone */
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 6) == 5 && !memcmp(buf, "world", 5), "pread 5 at 6 is 'world'");
    CHECK(pwrite(fd, "W", 1, 6) == 1, "pwrite 'W' at 6");
    CHECK(lseek(fd, 0, SEEK_CUR) == 11, "offset still 11 after pread/pwrite");
    CHECK(lseek(fd, -5, SEEK_END) == 6, "seek -5 from end is 6");
    memset(buf, 0, sizeof buf);
    CHECK(read(fd, buf, 5) == 5 && !memcmp(buf, "World", 5), "read 'World' after pwrite");
    CHECK(lseek(fd, -3, SEEK_CUR) == 8, "seek -3 from current is 8");
    CHECK_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL, "seek to a negative offset");

    /* fstat, ftruncate (shrink and extend, zero-filled) */
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 11, "fstat: regular, size 11");
    CHECK(ftruncate(fd, 5) == 0, "ftruncate to 5");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 5, "size 5 after ftruncate");
    CHECK(ftruncate(fd, 8) == 0, "ftruncate to 8");
    memset(buf, 'x', sizeof buf);
    CHECK(pread(fd, buf, 16, 0) == 8 && !memcmp(buf, "hello\0\0\0", 8), "extended part reads as zeros");
    CHECK(fsync(fd) == 0, "fsync");
    CHECK(fdatasync(fd) == 0, "fdatasync");
    CHECK(posix_fadvise(fd, 0, 8, POSIX_FADV_SEQUENTIAL) == 0, "posix_fadvise (fd_advise)");
    CHECK(posix_fallocate(fd, 0, 100) == 0, "posix_fallocate to 100 (fd_allocate)");
    CHECK(fstat(fd, &st) == 0 && st.st_size == 100, "size 100 after posix_fallocate");
    CHECK(close(fd) == 0, "close");
    CHECK_ERRNO(write(fd, "x", 1), EBADF, "write to a closed fd");

    /* O_TRUNC, O_APPEND, fcntl(F_SETFL) = fd_fdstat_set_flags */
    fd = open("a.txt", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties a.txt");
    CHECK(write(fd, "one\n", 4) == 4, "write one");
    CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0, "fcntl F_SETFL O_APPEND");
    CHECK((fcntl(fd, F_GETFL) & O_APPEND) != 0, "fcntl F_GETFL has O_APPEND");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek to 0");
    CHECK(write(fd, "two\n", 4) == 4, "append two");
    close(fd);
    fd = open("a.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "three\n", 6) == 6, "open O_APPEND, write three");
    close(fd);
    CHECK(read_all("a.txt", buf, sizeof buf) == 14 && !strcmp(buf, "one\ntwo\nthree\n"),
          "a.txt is one two three");

    /* fd_renumber */
    int f1 = open("a.txt", O_RDONLY), f2 = open("final.txt", O_CREAT | O_WRONLY, 0644);
    CHECK(f1 >= 0 && f2 >= 0, "open two files");
    CHECK(__wasi_fd_renumber(f1, f2) == 0, "fd_renumber a.txt's fd over the other");
    memset(buf, 0, sizeof buf);
    CHECK(read(f2, buf, 4) == 4 && !memcmp(buf, "one\n", 4), "renumbered fd reads a.txt");
    CHECK_ERRNO(read(f1, buf, 4), EBADF, "the old fd is closed");
    close(f2);

    /* times: futimens, utimensat */
    fd = open("final.txt", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, "final contents\n", 15) == 15, "write final.txt");
    struct timespec ts[2] = {{.tv_sec = 1200000000, .tv_nsec = 0}, {.tv_sec = 1300000000, .tv_nsec = 0}};
    CHECK(futimens(fd, ts) == 0, "futimens");
    CHECK(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1200000000 && st.st_mtim.tv_sec == 1300000000,
          "fstat shows atime 1200000000, mtime 1300000000");
    close(fd);
    ts[1].tv_sec = 1000000000;
    ts[0].tv_nsec = UTIME_OMIT;
    CHECK(utimensat(AT_FDCWD, "final.txt", ts, 0) == 0, "utimensat mtime, atime omitted");
    CHECK(stat("final.txt", &st) == 0 && st.st_mtim.tv_sec == 1000000000 && st.st_atim.tv_sec == 1200000000,
          "stat shows mtime 1000000000, atime kept");
    CHECK(st.st_size == 15, "stat size 15");

    /* rename (also over an existing file), link, symlink, readlink, unlink */
    CHECK(rename("a.txt", "b.txt") == 0, "rename a.txt b.txt");
    CHECK_ERRNO(open("a.txt", O_RDONLY), ENOENT, "a.txt is gone");
    fd = open("c.txt", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "c\n", 2) == 2, "create c.txt");
    close(fd);
    CHECK(rename("c.txt", "b.txt") == 0, "rename c.txt over b.txt");
    CHECK(read_all("b.txt", buf, sizeof buf) == 2 && !strcmp(buf, "c\n"), "b.txt has c's contents");
    CHECK(link("b.txt", "hard.txt") == 0, "link b.txt hard.txt");
    CHECK(stat("hard.txt", &st) == 0 && st.st_nlink == 2, "hard.txt has 2 links");
    CHECK_ERRNO(link("b.txt", "hard.txt"), EEXIST, "link onto an existing name");
    CHECK(symlink("b.txt", "sym.txt") == 0, "symlink sym.txt -> b.txt");
    memset(buf, 0, sizeof buf);
    CHECK(readlink("sym.txt", buf, sizeof buf) == 5 && !strcmp(buf, "b.txt"), "readlink sym.txt is b.txt");
    CHECK(lstat("sym.txt", &st) == 0 && S_ISLNK(st.st_mode), "lstat sym.txt: a symlink");
    CHECK(stat("sym.txt", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 2, "stat follows it: size 2");
    CHECK(read_all("sym.txt", buf, sizeof buf) == 2 && !strcmp(buf, "c\n"), "read through sym.txt");
    CHECK_ERRNO(readlink("b.txt", buf, sizeof buf), EINVAL, "readlink of a regular file");
    CHECK_ERRNO(open("sym.txt", O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink");
    CHECK(unlink("sym.txt") == 0, "unlink sym.txt");
    CHECK(stat("b.txt", &st) == 0, "b.txt still there after unlinking the link");
    CHECK(unlink("b.txt") == 0, "unlink b.txt");
    CHECK(stat("hard.txt", &st) == 0 && st.st_nlink == 1, "hard.txt has 1 link");
    CHECK_ERRNO(unlink("b.txt"), ENOENT, "unlink b.txt again");
    CHECK_ERRNO(open("nodir/x.txt", O_CREAT | O_WRONLY, 0644), ENOENT, "create in a missing directory");
    CHECK_ERRNO(open("hard.txt/x", O_RDONLY), ENOTDIR, "a file used as a directory");

    /* a larger file: 1 MiB written in chunks, read back and checked */
    fd = open("big.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
    static unsigned char big[65536];
    int ok = fd >= 0;
    for (int i = 0; ok && i < 16; i++) {
        for (size_t j = 0; j < sizeof big; j++)
            big[j] = (unsigned char)(i * 31 + j * 7);
        ok = write(fd, big, sizeof big) == (ssize_t)sizeof big;
    }
    CHECK(ok, "write 1 MiB");
    ok = lseek(fd, 0, SEEK_SET) == 0;
    for (int i = 0; ok && i < 16; i++) {
        ok = read(fd, big, sizeof big) == (ssize_t)sizeof big;
        for (size_t j = 0; ok && j < sizeof big; j++)
            ok = big[j] == (unsigned char)(i * 31 + j * 7);
    }
    CHECK(ok, "read 1 MiB back");
    close(fd);
    CHECK(unlink("big.bin") == 0, "unlink big.bin");
    return check_done();
}
