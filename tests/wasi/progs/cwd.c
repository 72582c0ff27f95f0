/* cwd.c - WASI test program: relative paths against a preopen, as `k23vm run --dir HOST::.` or
 * `--dir HOST` (the guest sees the host path) give them. argv[1] is the directory name to use:
 * "." for relative paths, else an absolute guest path. Writes DIR/hello.txt ("hello\n"), reads it
 * back through DIR/sub/../hello.txt, lists DIR; the harness checks hello.txt on the host. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
    char path[512], buf[16] = {0};
    const char *dir = argc > 1 ? argv[1] : ".";
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(mkdir(path, 0755) == 0, "mkdir DIR/sub");
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "hello\n", 6) == 6 && close(fd) == 0, "write DIR/hello.txt");
    snprintf(path, sizeof path, "%s/sub/../hello.txt", dir);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 6 && !strcmp(buf, "hello\n"), "read DIR/sub/../hello.txt");
    close(fd);
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    CHECK(d && n == 2, "DIR lists hello.txt and sub");
    if (d)
        closedir(d);
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(rmdir(path) == 0, "rmdir DIR/sub");
    return check_done();
}
