/* guest.c - the guest of CTest wasi_check (run.sh), compiled to wasm32-wasi against wasi-libc:
 *   guest sandbox   tries to leave the preopened directory /r in every way path resolution allows
 *                   (`..`, absolute paths, symbolic links out, link loops, creating, removing,
 *                   renaming and linking across the boundary) and checks each errno; also bad
 *                   guest pointers (EFAULT) and descriptors (EBADF). Exit status: the failures.
 *   guest exit N    exit(N) after printing a line
 *   guest trap      reaches `unreachable`
 *   guest serve     accepts one connection on the listening socket fd 3 (k23vm run --tcplisten),
 *                   receives a line and sends back "pong: " and the line; checks ENOTSOCK on a
 *                   descriptor that is no socket
 * and exports add(i32, i32) for `k23vm run --invoke add`. run.sh builds the fixture of links. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* path_open as imported, to hand it pointers that wasi-libc's wrapper would read first. */
int32_t raw_path_open(int32_t, int32_t, int32_t, int32_t, int32_t, int64_t, int64_t, int32_t, int32_t)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }

static int fails;

static void expect(const char *what, int got, int want)
{
    if (got != want) {
        printf("FAIL %s: errno %d, expected %d\n", what, got, want);
        fails++;
    }
}

/* Opens path beneath the preopen (fd 3) for reading and writing; closes it again. */
static int try_open(const char *path, int oflags, __wasi_lookupflags_t lookup)
{
    __wasi_fd_t fd;
    int e = __wasi_path_open(3, lookup, path, oflags, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    if (!e && __wasi_fd_close(fd)) fails++;
    return e;
}

static int sandbox(void)
{
    const int nc = __WASI_ERRNO_NOTCAPABLE, follow = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    expect("open ..", try_open("..", 0, follow), nc);
    expect("open ../secret", try_open("../secret", 0, follow), nc);
    expect("open a/../../secret", try_open("a/../../secret", 0, follow), nc);
    expect("open /secret", try_open("/secret", 0, follow), nc);
    expect("open link to an absolute path", try_open("out_abs", 0, follow), nc);
    expect("open link to ../secret", try_open("out_rel", 0, follow), nc);
    expect("open through a link to ../outside", try_open("out_dir/secret", 0, follow), nc);
    expect("open through a/out_dir2 -> ../../outside", try_open("a/out_dir2/secret", 0, follow), nc);
    expect("create through a dangling link out", try_open("out_new", __WASI_OFLAGS_CREAT, follow), nc);
    expect("open a link inside", try_open("in_link", 0, follow), 0);
    expect("open a link inside without following", try_open("in_link", 0, 0), __WASI_ERRNO_LOOP);
    expect("open a/../in.txt", try_open("a/../in.txt", 0, follow), 0);
    expect("open a/up/in.txt (a/up -> ..)", try_open("a/up/in.txt", 0, follow), 0);
    expect("open a link loop", try_open("loop1", 0, follow), __WASI_ERRNO_LOOP);
    expect("mkdir ../x", __wasi_path_create_directory(3, "../x"), nc);
    expect("rmdir ../outside", __wasi_path_remove_directory(3, "../outside"), nc);
    expect("unlink ../secret", __wasi_path_unlink_file(3, "../secret"), nc);
    expect("unlink out_dir/secret", __wasi_path_unlink_file(3, "out_dir/secret"), nc);
    expect("rename in.txt to ../stolen", __wasi_path_rename(3, "in.txt", 3, "../stolen"), nc);
    expect("rename ../secret in", __wasi_path_rename(3, "../secret", 3, "got"), nc);
    expect("hard link to out_rel's target", __wasi_path_link(3, follow, "out_rel", 3, "hard"), nc);
    expect("symlink to an absolute path", __wasi_path_symlink("/etc/passwd", 3, "new_abs"), nc);
    __wasi_filestat_t st;
    expect("stat following out_rel", __wasi_path_filestat_get(3, follow, "out_rel", &st), nc);
    expect("lstat of out_rel", __wasi_path_filestat_get(3, 0, "out_rel", &st), 0);
    expect("utimes following out_abs",
           __wasi_path_filestat_set_times(3, follow, "out_abs", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), nc);
    /* Bad pointers and descriptors. */
    expect("path past the memory", raw_path_open(3, 0, (int32_t)0xfffffff0, 100, 0, 0, 0, 0, 0), __WASI_ERRNO_FAULT);
    __wasi_ciovec_t iov = {(const uint8_t *)0x7ffffff0, 100};
    __wasi_size_t n;
    expect("iovec past the memory", __wasi_fd_write(1, &iov, 1, &n), __WASI_ERRNO_FAULT);
    expect("result past the memory", __wasi_fd_write(1, NULL, 0, (__wasi_size_t *)0xfffffffc), __WASI_ERRNO_FAULT);
    expect("close 999", __wasi_fd_close(999), __WASI_ERRNO_BADF);
    expect("renumber to 999", __wasi_fd_renumber(3, 999), __WASI_ERRNO_BADF);
    printf("sandbox: %d failures\n", fails);
    return fails;
}

static int serve(void)
{
    __wasi_fd_t conn;
    expect("sock_recv on stdout", __wasi_sock_recv(1, NULL, 0, 0, NULL, NULL), __WASI_ERRNO_NOTSOCK);
    expect("sock_accept", __wasi_sock_accept(3, 0, &conn), 0);
    if (fails) return fails;
    char line[128] = {0};
    __wasi_iovec_t riov = {(uint8_t *)line, sizeof line - 1};
    __wasi_size_t got = 0, sent;
    __wasi_roflags_t roflags;
    /* Until the newline: TCP may hand the line over in pieces. */
    while (!strchr(line, '\n') && got < sizeof line - 1) {
        __wasi_size_t n;
        riov.buf = (uint8_t *)line + got;
        riov.buf_len = sizeof line - 1 - got;
        expect("sock_recv", __wasi_sock_recv(conn, &riov, 1, 0, &n, &roflags), 0);
        if (fails || n == 0) break;
        got += n;
    }
    const char *pre = "pong: ";
    __wasi_ciovec_t siov[2] = {{(const uint8_t *)pre, strlen(pre)}, {(const uint8_t *)line, got}};
    expect("sock_send", __wasi_sock_send(conn, siov, 2, 0, &sent), 0);
    expect("sent it all", (int)sent, (int)(strlen(pre) + got));
    expect("sock_shutdown", __wasi_sock_shutdown(conn, __WASI_SDFLAGS_WR), 0);
    expect("close", __wasi_fd_close(conn), 0);
    printf("serve: %d failures\n", fails);
    return fails;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "serve")) return serve();
    if (argc >= 2 && !strcmp(argv[1], "sandbox")) return sandbox();
    if (argc >= 3 && !strcmp(argv[1], "exit")) {
        printf("exiting with %d\n", atoi(argv[2]));
        exit(atoi(argv[2]));
    }
    if (argc >= 2 && !strcmp(argv[1], "trap")) __builtin_trap();
    if (argc >= 2 && !strcmp(argv[1], "oob")) {
        /* A load 1 GiB past the start of memory, which is far smaller: the bounds check (guard
         * page or explicit) must turn it into a trap. volatile: the compiler may not drop it. */
        volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)0x40000000u;
        return *p;
    }
    printf("usage: guest sandbox | exit N | trap\n");
    return 2;
}
