/* dirs.c - WASI test program: directories in the preopened /sandbox (path_create_directory,
 * path_remove_directory, fd_readdir with many entries, rewinding and small buffers (cookies),
 * path_filestat_get, fd_prestat_* through the preopen's name). Leaves keep/inner/ with 300 files
 * named f000..f299 for the harness. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define NFILES 300

/* Reads the directory, counts entries other than . and .., and checks each f%03d seen once. */
static int scan(DIR *d, int *dots, int *dups)
{
    static unsigned char seen[NFILES];
    memset(seen, 0, sizeof seen);
    int n = 0;
    *dots = 0;
    *dups = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            ++*dots;
            continue;
        }
        int i = atoi(e->d_name + 1);
        if (e->d_name[0] != 'f' || i < 0 || i >= NFILES || e->d_type != DT_REG || seen[i]++)
            ++*dups;
        n++;
    }
    return n;
}


/* The same with the raw fd_readdir and a small buffer: entries come whole or cut at the buffer's
 * end (a full buffer), and reading on from the last whole entry's d_next finds the rest. Each
 * name f000..f299 must come exactly once; returns the number of files, -1 on an error. */
static int raw_scan(__wasi_fd_t fd, size_t bufsize, int *calls)
{
    static unsigned char seen[NFILES];
    static uint8_t buf[512];
    memset(seen, 0, sizeof seen);
    __wasi_dircookie_t cookie = 0;
    int n = 0;
    *calls = 0;
    for (;;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(fd, buf, bufsize, cookie, &used) != 0 || used > bufsize)
            return -1;
        ++*calls;
        size_t off = 0;
        int whole = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t de;
            memcpy(&de, buf + off, sizeof de);
            if (off + sizeof de + de.d_namlen > used)
                break; /* cut off: read it again from the cookie */
            const char *name = (const char *)buf + off + sizeof de;
            if (!(de.d_namlen == 1 && name[0] == '.') && !(de.d_namlen == 2 && !memcmp(name, "..", 2))) {
                /* the name is not NUL-terminated: the next entry's header follows it */
                int i = -1;
                if (de.d_namlen == 4 && name[0] == 'f')
                    i = (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0');
                if (i < 0 || i >= NFILES || seen[i]++ || de.d_type != __WASI_FILETYPE_REGULAR_FILE)
                    return -1;
                n++;
            }
            cookie = de.d_next;
            off += sizeof de + de.d_namlen;
            whole++;
        }
        if (used < bufsize)
            return n; /* the end of the directory */
        if (!whole)
            return -1; /* not even one entry fits: the buffer is too small */
    }
}

int main(void)
{
    struct stat st;
    CHECK(chdir("/sandbox") == 0, "chdir /sandbox");
    CHECK(mkdir("d1", 0755) == 0, "mkdir d1");
    CHECK_ERRNO(mkdir("d1", 0755), EEXIST, "mkdir d1 again");
    CHECK(stat("d1", &st) == 0 && S_ISDIR(st.st_mode), "stat d1: a directory");
    CHECK(mkdir("d1/d2", 0755) == 0, "mkdir d1/d2");
    CHECK_ERRNO(mkdir("missing/d3", 0755), ENOENT, "mkdir under a missing directory");
    int fd = open("d1/d2/file", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0, "create d1/d2/file");
    close(fd);
    CHECK_ERRNO(rmdir("d1/d2"), ENOTEMPTY, "rmdir a non-empty directory");
    CHECK_ERRNO(rmdir("d1/d2/file"), ENOTDIR, "rmdir a file");
    CHECK_ERRNO(unlink("d1/d2"), EISDIR, "unlink a directory");
    CHECK(unlink("d1/d2/file") == 0, "unlink d1/d2/file");
    CHECK(rmdir("d1/d2") == 0, "rmdir d1/d2");
    CHECK(rename("d1", "d9") == 0, "rename directory d1 to d9");
    CHECK(rmdir("d9") == 0, "rmdir d9");
    CHECK_ERRNO(stat("d9", &st), ENOENT, "d9 is gone");

    CHECK(mkdir("keep", 0755) == 0 && mkdir("keep/inner", 0755) == 0, "mkdir keep/inner");
    int ok = 1;
    char name[64];
    for (int i = 0; ok && i < NFILES; i++) {
        /* long names so that fd_readdir needs several calls to fill libc's buffer */
        snprintf(name, sizeof name, "keep/inner/f%03d", i);
        fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644);
        ok = fd >= 0 && close(fd) == 0;
    }
    CHECK(ok, "create %d files in keep/inner", NFILES);
    DIR *d = opendir("keep/inner");
    CHECK(d != NULL, "opendir keep/inner");
    int dots, dups;
    int n = scan(d, &dots, &dups);
    CHECK(n == NFILES && dups == 0, "readdir: %d files, each once (got %d, %d bad)", NFILES, n, dups);
    CHECK(dots == 0 || dots == 2, "readdir: . and .. both listed or neither");
    rewinddir(d);
    n = scan(d, &dots, &dups);
    CHECK(n == NFILES && dups == 0, "after rewinddir: %d files again (got %d)", NFILES, n);
    closedir(d);
    __wasi_fd_t dfd;
    CHECK(__wasi_path_open(3, 0, "keep/inner", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, 0, &dfd) == 0,
          "path_open keep/inner for fd_readdir");
    int calls = 0;
    n = raw_scan(dfd, 100, &calls);
    CHECK(n == NFILES && calls > 50, "fd_readdir with a 100-byte buffer: %d files, each once, in many calls", NFILES);
    n = raw_scan(dfd, 512, &calls);
    CHECK(n == NFILES, "fd_readdir with a 512-byte buffer: %d files again", NFILES);
    __wasi_size_t used = 0;
    static uint8_t small[10];
    CHECK(__wasi_fd_readdir(dfd, small, sizeof small, 0, &used) == 0 && used == sizeof small,
          "fd_readdir into 10 bytes fills them (a cut entry)");
    CHECK(__wasi_fd_close(dfd) == 0, "close it");

    /* a directory fd: fstat, reading it as a file fails */
    fd = open("keep", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "open keep O_DIRECTORY, fstat: a directory");
    char c;
    errno = 0;
    ssize_t r = read(fd, &c, 1);
    int e = errno;
    CHECK(r == -1 && (e == EISDIR || e == EBADF), "read from a directory fd fails (EISDIR or EBADF)");
    close(fd);
    CHECK_ERRNO(open("keep/inner/f000", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");

    /* the preopen itself */
    d = opendir("/sandbox");
    int entries = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    CHECK(d && entries == 1, "/sandbox lists one entry (keep)");
    if (d)
        closedir(d);
    __wasi_prestat_t ps;
    CHECK(__wasi_fd_prestat_get(3, &ps) == 0 && ps.tag == __WASI_PREOPENTYPE_DIR && ps.u.dir.pr_name_len == 8,
          "fd 3 is the preopen, name length 8");
    char pname[9] = {0};
    CHECK(__wasi_fd_prestat_dir_name(3, (uint8_t *)pname, 8) == 0 && !strcmp(pname, "/sandbox"),
          "fd 3's name is /sandbox");
    CHECK(__wasi_fd_prestat_get(0, &ps) != 0, "fd_prestat_get(0) fails: stdin is no preopen");
    CHECK_WASI(__wasi_fd_prestat_get(999, &ps), __WASI_ERRNO_BADF, "fd_prestat_get(999)");
    return check_done();
}
