/* escape.c - WASI test program: attempts to leave the preopened directory /sandbox (fd 3). The
 * harness (run-test.sh, case escape) lays out beforehand, on the host, in a fresh directory T:
 *   T/outside/sentinel.txt ("sentinel\n"), T/outside/sub/
 *   T/sandbox/inside.txt ("inside\n"), T/sandbox/sub/   (T/sandbox is preopened as /sandbox)
 *   T/sandbox/link_rel -> ../outside/sentinel.txt   T/sandbox/link_abs -> T/outside/sentinel.txt
 *   T/sandbox/dir_out -> ../outside                 T/sandbox/dir_abs -> T/outside
 *   T/sandbox/hop1 -> sub/hop2, T/sandbox/sub/hop2 -> ../../sandbox/inside.txt (leaves, re-enters)
 *   T/sandbox/ok1 -> sub/ok2, T/sandbox/sub/ok2 -> ../inside.txt (stays inside: must work)
 *   T/sandbox/sub/up -> .. (inside)   T/sandbox/sub/upup -> ../.. (outside)   T/sandbox/loop -> loop
 * and passes T/outside/sentinel.txt's absolute host path as argv[1]. Every escape must fail with
 * ENOTCAPABLE (ELOOP for the loop); the harness then checks that nothing outside changed. The raw
 * WASI calls are used so that wasi-libc's own path handling does not stand in the way. */
#include <stdlib.h>

#include "check.h"

#define ROOT 3
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define RD (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_GET)
#define WR (__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)
#define DIRRIGHTS (__WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_CREATE_FILE)
#define NOTCAP __WASI_ERRNO_NOTCAPABLE

static __wasi_fd_t fd;

static int open_read(const char *path, __wasi_lookupflags_t follow)
{
    return __wasi_path_open(ROOT, follow, path, 0, RD, 0, 0, &fd);
}

/* Opens PATH, reads it, compares with WANT, closes it. */
static int read_is(const char *path, const char *want)
{
    char buf[64] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t n = 0;
    if (open_read(path, FOLLOW) != 0)
        return 0;
    int ok = __wasi_fd_read(fd, &iov, 1, &n) == 0 && !strcmp(buf, want);
    return __wasi_fd_close(fd) == 0 && ok;
}

int main(int argc, char **argv)
{
    const char *host_sentinel = argc > 1 ? argv[1] : "/nonexistent";
    __wasi_filestat_t st;
    __wasi_prestat_t ps;
    CHECK(__wasi_fd_prestat_get(ROOT, &ps) == 0 && ps.tag == __WASI_PREOPENTYPE_DIR, "fd 3 is the preopen");

    /* what must work: symlinks and .. that stay inside */
    CHECK(read_is("inside.txt", "inside\n"), "read inside.txt");
    CHECK(read_is("ok1", "inside\n"), "symlink chain ok1 -> sub/ok2 -> ../inside.txt");
    CHECK(read_is("sub/../inside.txt", "inside\n"), "sub/../inside.txt");
    CHECK(read_is("./sub/./../inside.txt", "inside\n"), "./sub/./../inside.txt");
    CHECK(read_is("sub/up/inside.txt", "inside\n"), "through sub/up -> ..");
    char lbuf[64] = {0};
    __wasi_size_t used = 0;
    CHECK_WASI(__wasi_path_readlink(ROOT, "link_rel", (uint8_t *)lbuf, sizeof lbuf - 1, &used), 0, "readlink link_rel");
    CHECK(used == 23 && !memcmp(lbuf, "../outside/sentinel.txt", 23), "link_rel reads ../outside/sentinel.txt");
    CHECK_WASI(__wasi_path_filestat_get(ROOT, 0, "link_rel", &st), 0, "filestat of link_rel itself (no follow)");
    CHECK(st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "link_rel is a symlink");

    /* .. past the root, absolute paths */
    CHECK_WASI(open_read("../outside/sentinel.txt", FOLLOW), NOTCAP, "open ../outside/sentinel.txt");
    CHECK_WASI(open_read("sub/../../outside/sentinel.txt", FOLLOW), NOTCAP, "open sub/../../outside/sentinel.txt");
    CHECK_WASI(open_read("..", FOLLOW), NOTCAP, "open ..");
    CHECK_WASI(open_read("../sandbox/inside.txt", FOLLOW), NOTCAP, "open ../sandbox/inside.txt (out and back in)");
    CHECK_WASI(__wasi_path_open(ROOT, FOLLOW, "..", __WASI_OFLAGS_DIRECTORY, DIRRIGHTS, RD, 0, &fd), NOTCAP,
               "open .. as a directory");
    CHECK_WASI(open_read("/etc/passwd", FOLLOW), NOTCAP, "open /etc/passwd");
    CHECK_WASI(open_read(host_sentinel, FOLLOW), NOTCAP, "open the sentinel by its absolute host path");
    CHECK_WASI(open_read("/", FOLLOW), NOTCAP, "open /");

    /* symlinks pointing outside */
    CHECK_WASI(open_read("link_rel", FOLLOW), NOTCAP, "open link_rel -> ../outside/sentinel.txt");
    CHECK_WASI(open_read("link_abs", FOLLOW), NOTCAP, "open link_abs -> absolute host path");
    CHECK_WASI(open_read("link_rel", 0), __WASI_ERRNO_LOOP, "open link_rel without following");
    CHECK_WASI(__wasi_path_open(ROOT, FOLLOW, "link_rel", __WASI_OFLAGS_TRUNC, RD | WR, 0, 0, &fd), NOTCAP,
               "open link_rel for writing with O_TRUNC");
    CHECK_WASI(__wasi_path_open(ROOT, FOLLOW, "link_abs", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, RD | WR, 0, 0, &fd),
               NOTCAP, "open link_abs with O_CREAT|O_TRUNC");
    CHECK_WASI(open_read("hop1", FOLLOW), NOTCAP, "open hop1 -> sub/hop2 -> ../../sandbox/inside.txt");
    CHECK_WASI(open_read("sub/upup/outside/sentinel.txt", FOLLOW), NOTCAP, "open through sub/upup -> ../..");
    CHECK_WASI(open_read("loop", FOLLOW), __WASI_ERRNO_LOOP, "open loop -> loop");

    /* a symlinked directory pointing out */
    CHECK_WASI(open_read("dir_out/sentinel.txt", FOLLOW), NOTCAP, "open dir_out/sentinel.txt");
    CHECK_WASI(open_read("dir_out/sentinel.txt", 0), NOTCAP, "open dir_out/sentinel.txt, no final follow");
    CHECK_WASI(open_read("dir_abs/sentinel.txt", FOLLOW), NOTCAP, "open dir_abs/sentinel.txt");
    CHECK_WASI(__wasi_path_open(ROOT, FOLLOW, "dir_out", __WASI_OFLAGS_DIRECTORY, DIRRIGHTS, RD, 0, &fd), NOTCAP,
               "open dir_out as a directory");
    CHECK_WASI(__wasi_path_open(ROOT, FOLLOW, "dir_out/created.txt", __WASI_OFLAGS_CREAT, RD | WR, 0, 0, &fd), NOTCAP,
               "create dir_out/created.txt");
    CHECK_WASI(__wasi_path_open(ROOT, 0, "../created.txt", __WASI_OFLAGS_CREAT, RD | WR, 0, 0, &fd), NOTCAP,
               "create ../created.txt");

    /* every other path call */
    CHECK_WASI(__wasi_path_create_directory(ROOT, "../outside/newdir"), NOTCAP, "mkdir ../outside/newdir");
    CHECK_WASI(__wasi_path_create_directory(ROOT, "dir_out/newdir"), NOTCAP, "mkdir dir_out/newdir");
    CHECK_WASI(__wasi_path_remove_directory(ROOT, "../outside/sub"), NOTCAP, "rmdir ../outside/sub");
    CHECK_WASI(__wasi_path_remove_directory(ROOT, "dir_out/sub"), NOTCAP, "rmdir dir_out/sub");
    CHECK_WASI(__wasi_path_unlink_file(ROOT, "../outside/sentinel.txt"), NOTCAP, "unlink ../outside/sentinel.txt");
    CHECK_WASI(__wasi_path_unlink_file(ROOT, "dir_out/sentinel.txt"), NOTCAP, "unlink dir_out/sentinel.txt");
    CHECK_WASI(__wasi_path_rename(ROOT, "inside.txt", ROOT, "../moved.txt"), NOTCAP, "rename inside.txt ../moved.txt");
    CHECK_WASI(__wasi_path_rename(ROOT, "inside.txt", ROOT, "dir_out/moved.txt"), NOTCAP,
               "rename inside.txt dir_out/moved.txt");
    CHECK_WASI(__wasi_path_rename(ROOT, "../outside/sentinel.txt", ROOT, "stolen.txt"), NOTCAP,
               "rename ../outside/sentinel.txt stolen.txt");
    CHECK_WASI(__wasi_path_rename(ROOT, "dir_out/sentinel.txt", ROOT, "stolen.txt"), NOTCAP,
               "rename dir_out/sentinel.txt stolen.txt");
    CHECK_WASI(__wasi_path_link(ROOT, 0, "../outside/sentinel.txt", ROOT, "hard.txt"), NOTCAP,
               "link ../outside/sentinel.txt hard.txt");
    CHECK_WASI(__wasi_path_link(ROOT, FOLLOW, "link_rel", ROOT, "hard.txt"), NOTCAP,
               "link, following link_rel, to hard.txt");
    CHECK_WASI(__wasi_path_link(ROOT, 0, "inside.txt", ROOT, "dir_out/hard.txt"), NOTCAP,
               "link inside.txt dir_out/hard.txt");
    CHECK_WASI(__wasi_path_symlink("inside.txt", ROOT, "dir_out/newlink"), NOTCAP, "symlink at dir_out/newlink");
    CHECK_WASI(__wasi_path_symlink("inside.txt", ROOT, "../newlink"), NOTCAP, "symlink at ../newlink");
    CHECK_WASI(__wasi_path_readlink(ROOT, "../outside/sub", (uint8_t *)lbuf, sizeof lbuf, &used), NOTCAP,
               "readlink ../outside/sub");
    CHECK_WASI(__wasi_path_filestat_get(ROOT, FOLLOW, "../outside/sentinel.txt", &st), NOTCAP,
               "filestat ../outside/sentinel.txt");
    CHECK_WASI(__wasi_path_filestat_get(ROOT, FOLLOW, "link_rel", &st), NOTCAP, "filestat following link_rel");
    CHECK_WASI(__wasi_path_filestat_get(ROOT, FOLLOW, "dir_out", &st), NOTCAP, "filestat following dir_out");
    CHECK_WASI(__wasi_path_filestat_set_times(ROOT, FOLLOW, "link_rel", 1, 1,
                                              __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
               NOTCAP, "set times following link_rel");
    CHECK_WASI(__wasi_path_filestat_set_times(ROOT, 0, "../outside/sentinel.txt", 1, 1,
                                              __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
               NOTCAP, "set times on ../outside/sentinel.txt");

    /* removing the links themselves is fine: it touches only the sandbox */
    CHECK_WASI(__wasi_path_unlink_file(ROOT, "link_rel"), 0, "unlink link_rel (the link, inside)");
    CHECK_WASI(__wasi_path_unlink_file(ROOT, "dir_out"), 0, "unlink dir_out (the link, inside)");
    CHECK(read_is("inside.txt", "inside\n"), "inside.txt still there");
    return check_done();
}
