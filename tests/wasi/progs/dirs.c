/* dirs.c - WASI test program: directories in the preopened /sandbox (path_create_directory,
 * path_remove_directory, fd_readdir with many entries and rewinding, path_filestat_get, fd_prestat_*
 * through the preopen's name). Leaves keep/inner/ with 300 files named f000..f299 for the harness. */
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
