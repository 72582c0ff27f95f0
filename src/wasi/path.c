/* path.c - the path_* calls of WASI preview 1 (libk23wasi.a) and the capability sandbox behind
 * them: every guest path is resolved beneath the directory descriptor it is relative to, and
 * never leaves it.
 *
 * Resolution yields a host directory (an O_PATH descriptor beneath the guest's directory, or that
 * directory itself) and one final name, on which the call then acts with an *at() system call
 * that does not follow symbolic links (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW): the final name has no '/'
 * and the directory is inside the sandbox, so nothing outside can be reached, even when the guest
 * (or anyone) swaps files for symbolic links meanwhile. Two resolvers find that directory:
 *  - openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux 5.6+): the
 *    kernel walks the directory part and refuses (EXDEV) `..` past the start, absolute symbolic
 *    links and any that climb out; path_open opens the whole path that way in one call.
 *  - otherwise (or forced: K23VM_WASI_RESOLVE=fallback, k23vm_wasi_config.resolve) a walk of
 *    each component: openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) down, a stack of the directories
 *    passed for `..` (refused at depth 0), symbolic links read with readlinkat and spliced into
 *    the rest of the path (absolute targets refused, at most 40 links: ELOOP).
 * A final symbolic link that the call follows (lookupflags symlink_follow) is expanded by the walk
 * in both modes. Escapes are ENOTCAPABLE. Absolute guest paths are ENOTCAPABLE too: wasi-libc
 * turns absolute paths into preopen-relative ones before calling, so only a hand-made call sees
 * that.
 */
#include "wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#define ARG_U32(i) ((uint32_t)a[i].of.i32)
#define ARG_U64(i) ((uint64_t)a[i].of.i64)

#define MAX_SYMLINKS 40
#define MAX_PATH_BYTES 65536

/* ---- openat2 ------------------------------------------------------------------------------------ */

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
    /* openat2 refuses a mode without O_CREAT/O_TMPFILE. */
    struct open_how how = {.flags = (uint64_t)flags, .mode = (flags & O_CREAT) ? mode : 0,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int r;
    do r = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (r < 0 && errno == EINTR);
    return r;
#else
    errno = ENOSYS;
    return -1;
#endif
}

bool wasi_have_openat2(void)
{
    static int have = -1; /* -1 not probed yet */
    if (have < 0) {
        int fd = sys_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        have = fd >= 0;
        if (fd >= 0) close(fd);
    }
    return have == 1;
}

/* openat2's refusal to leave the directory is EXDEV; to the guest it is a missing capability. */
static uint16_t open_errno(int e) { return e == EXDEV ? W_ENOTCAPABLE : wasi_errno(e); }

/* ---- resolution --------------------------------------------------------------------------------- */

typedef struct resolved {
    int dir;        /* host directory the name is in */
    bool own_dir;   /* dir is ours to close */
    bool must_dir;  /* the path ended in '/': the name must be a directory */
    char name[NAME_MAX + 1];
} resolved;

static void resolved_done(resolved *r)
{
    if (r->own_dir && r->dir >= 0) close(r->dir);
    r->dir = -1;
    r->own_dir = false;
}

/* The walk: start at root, every component by hand (see the file's comment). */
static uint16_t walk(int root, const char *path, size_t len, bool follow, resolved *out)
{
    enum { MAX_DEPTH = 256 };
    int stack[MAX_DEPTH];
    int depth = 0;
    stack[0] = root;
    int links = 0;
    uint16_t e = W_ESUCCESS;
    /* The rest of the path still to walk, in a buffer of our own (symbolic links rewrite it). */
    char *rest = malloc(len + 1);
    if (!rest) return W_ENOMEM;
    memcpy(rest, path, len);
    rest[len] = 0;
    size_t pos = 0;

    for (;;) {
        while (rest[pos] == '/') pos++;
        if (!rest[pos]) {
            /* Nothing left (only reachable when the path was all '.', '..' and '/'): the
             * directory itself. */
            strcpy(out->name, ".");
            out->must_dir = true;
            break;
        }
        size_t start = pos;
        while (rest[pos] && rest[pos] != '/') pos++;
        size_t clen = pos - start;
        size_t after = pos;
        while (rest[after] == '/') after++;
        bool last = !rest[after];
        bool trailing = last && after > pos;
        char comp[NAME_MAX + 1];
        if (clen > NAME_MAX) {
            e = W_ENAMETOOLONG;
            goto done;
        }
        memcpy(comp, rest + start, clen);
        comp[clen] = 0;

        if (!strcmp(comp, ".")) {
            if (last) {
                strcpy(out->name, ".");
                out->must_dir = true;
                break;
            }
            continue;
        }
        if (!strcmp(comp, "..")) {
            if (depth == 0) {
                e = W_ENOTCAPABLE;
                goto done;
            }
            close(stack[depth--]);
            if (last) {
                strcpy(out->name, ".");
                out->must_dir = true;
                break;
            }
            continue;
        }
        if (last && !follow && !trailing) {
            strcpy(out->name, comp);
            break;
        }
        struct stat st;
        if (fstatat(stack[depth], comp, &st, AT_SYMLINK_NOFOLLOW)) {
            if (last && errno == ENOENT) {
                /* A name to be made: the call says what a missing one means. */
                strcpy(out->name, comp);
                out->must_dir = trailing;
                break;
            }
            e = wasi_errno(errno);
            goto done;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_SYMLINKS) {
                e = W_ELOOP;
                goto done;
            }
            char target[PATH_MAX + 1];
            ssize_t n = readlinkat(stack[depth], comp, target, PATH_MAX);
            if (n < 0) {
                e = wasi_errno(errno);
                goto done;
            }
            target[n] = 0;
            if (n == 0) {
                e = W_ENOENT;
                goto done;
            }
            if (target[0] == '/') {
                e = W_ENOTCAPABLE;
                goto done;
            }
            /* rest = target + (the separator and what followed the link) */
            size_t tail = strlen(rest + pos);
            if ((size_t)n + tail > MAX_PATH_BYTES) {
                e = W_ENAMETOOLONG;
                goto done;
            }
            char *nrest = malloc((size_t)n + tail + 1);
            if (!nrest) {
                e = W_ENOMEM;
                goto done;
            }
            memcpy(nrest, target, (size_t)n);
            memcpy(nrest + n, rest + pos, tail + 1);
            free(rest);
            rest = nrest;
            pos = 0;
            continue;
        }
        if (last) {
            strcpy(out->name, comp);
            out->must_dir = trailing;
            if (trailing && !S_ISDIR(st.st_mode)) e = W_ENOTDIR;
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            e = W_ENOTDIR;
            goto done;
        }
        if (depth + 1 >= MAX_DEPTH) {
            e = W_ENAMETOOLONG;
            goto done;
        }
        int fd = openat(stack[depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            e = wasi_errno(errno);
            goto done;
        }
        stack[++depth] = fd;
    }
    /* Success: keep the innermost directory, close the ones above it. */
    out->dir = stack[depth];
    out->own_dir = depth > 0;
    while (depth > 1) close(stack[--depth]);
    free(rest);
    return W_ESUCCESS;

done:
    while (depth > 0) close(stack[depth--]);
    free(rest);
    return e;
}

/* With openat2: the directory part by the kernel, the final name as the walk would treat it; a
 * final symbolic link to follow goes to the walk. */
static uint16_t beneath(int root, const char *path, size_t len, bool follow, resolved *out)
{
    /* Split off the last component (ignoring trailing slashes). */
    size_t end = len;
    while (end > 0 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t clen = end - start;
    if (clen == 0 || (clen == 1 && path[start] == '.') || (clen == 2 && path[start] == '.' && path[start + 1] == '.'))
        return walk(root, path, len, follow, out);
    if (clen > NAME_MAX) return W_ENAMETOOLONG;
    bool trailing = end < len;
    if (start > 0) {
        char *dir = malloc(start + 1);
        if (!dir) return W_ENOMEM;
        memcpy(dir, path, start);
        dir[start] = 0;
        int fd = sys_openat2(root, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        free(dir);
        if (fd < 0) return open_errno(errno);
        out->dir = fd;
        out->own_dir = true;
    } else {
        out->dir = root;
        out->own_dir = false;
    }
    memcpy(out->name, path + start, clen);
    out->name[clen] = 0;
    out->must_dir = trailing;
    if (follow || trailing) {
        struct stat st;
        if (!fstatat(out->dir, out->name, &st, AT_SYMLINK_NOFOLLOW)) {
            if (S_ISLNK(st.st_mode)) {
                resolved_done(out);
                return walk(root, path, len, true, out);
            }
            if (trailing && !S_ISDIR(st.st_mode)) {
                resolved_done(out);
                return W_ENOTDIR;
            }
        }
    }
    return W_ESUCCESS;
}

/* Reads the guest path (ptr, len) and resolves it beneath the directory descriptor fd, which must
 * hold `need`. */
static uint16_t resolve(wasi_call *c, uint32_t fd, uint64_t need, uint32_t ptr, uint32_t len, bool follow,
                        resolved *out)
{
    out->dir = -1;
    out->own_dir = false;
    out->must_dir = false;
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, fd, need, &f);
    if (e) return e;
    if (f->type != FT_DIRECTORY) return W_ENOTDIR;
    WASI_CHECK(c, ptr, len);
    const char *p = (const char *)c->mem + ptr;
    if (len == 0) return W_ENOENT;
    if (memchr(p, 0, len)) return W_EINVAL;
    if (len > MAX_PATH_BYTES) return W_ENAMETOOLONG;
    if (p[0] == '/') return W_ENOTCAPABLE;
    return c->w->use_openat2 ? beneath(f->host, p, len, follow, out) : walk(f->host, p, len, follow, out);
}

/* ---- path_open ---------------------------------------------------------------------------------- */

uint16_t wasi_path_open(wasi_call *c, const k23vm_val *a)
{
    uint32_t dirfd = ARG_U32(0), lookup = ARG_U32(1), pathp = ARG_U32(2), pathlen = ARG_U32(3);
    uint32_t oflags = ARG_U32(4), fdflags = ARG_U32(7), outp = ARG_U32(8);
    uint64_t base = ARG_U64(5), inh = ARG_U64(6);
    wasi_fd *dir;
    uint16_t e = wasi_fd_get(c->w, dirfd, R_PATH_OPEN, &dir);
    if (e) return e;
    if (oflags & ~0xfu) return W_EINVAL;
    if (fdflags & ~0x1fu) return W_EINVAL;
    if ((oflags & OFL_CREAT) && !(dir->base & R_PATH_CREATE_FILE)) return W_ENOTCAPABLE;
    if ((oflags & OFL_TRUNC) && !(dir->base & R_PATH_FILESTAT_SET_SIZE)) return W_ENOTCAPABLE;
    WASI_CHECK(c, outp, 4);
    /* The new descriptor gets at most what the directory passes on: asking for more is
     * ENOTCAPABLE (wasi-libc asks for its wishes masked by the directory's inheriting rights). */
    if ((base & ~dir->inh) || (inh & ~dir->inh)) return W_ENOTCAPABLE;

    int flags = O_CLOEXEC | O_NOCTTY;
    bool rd = base & (R_FD_READ | R_FD_READDIR);
    bool wr = (base & (R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE)) || (fdflags & FDFL_APPEND);
    if (oflags & OFL_DIRECTORY) {
        flags |= O_RDONLY | O_DIRECTORY;
        wr = false;
    } else {
        flags |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    }
    if (oflags & OFL_CREAT) flags |= O_CREAT;
    if (oflags & OFL_EXCL) flags |= O_EXCL;
    if (oflags & OFL_TRUNC) flags |= O_TRUNC;
    if (fdflags & FDFL_APPEND) flags |= O_APPEND;
    if (fdflags & FDFL_DSYNC) flags |= O_DSYNC;
    if (fdflags & FDFL_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & FDFL_RSYNC) flags |= O_RSYNC;
    if (fdflags & FDFL_SYNC) flags |= O_SYNC;
    /* O_CREAT|O_EXCL never follows a final symbolic link (POSIX). */
    bool follow = (lookup & LOOKUP_SYMLINK_FOLLOW) && !((oflags & OFL_CREAT) && (oflags & OFL_EXCL));

    int h = -1;
    if (c->w->use_openat2 && dir->type == FT_DIRECTORY) {
        WASI_CHECK(c, pathp, pathlen);
        const char *p = (const char *)c->mem + pathp;
        if (pathlen == 0) return W_ENOENT;
        if (memchr(p, 0, pathlen)) return W_EINVAL;
        if (p[0] == '/') return W_ENOTCAPABLE;
        char *path = strndup(p, pathlen);
        if (!path) return W_ENOMEM;
        h = sys_openat2(dir->host, path, flags | (follow ? 0 : O_NOFOLLOW), 0666);
        int err = errno;
        free(path);
        if (h < 0) {
            /* A directory opened for writing: POSIX says EISDIR; so does Linux. */
            return open_errno(err);
        }
    } else {
        resolved r;
        if ((e = resolve(c, dirfd, R_PATH_OPEN, pathp, pathlen, follow, &r))) return e;
        if (r.must_dir) flags |= O_DIRECTORY;
        h = openat(r.dir, r.name, flags | O_NOFOLLOW, 0666);
        int err = errno;
        resolved_done(&r);
        if (h < 0) return wasi_errno(err);
    }
    struct stat st;
    if (fstat(h, &st)) {
        int err = errno;
        close(h);
        return wasi_errno(err);
    }
    uint8_t type = wasi_filetype(st.st_mode);
    uint64_t mask;
    switch (type) {
    case FT_DIRECTORY: mask = R_DIR_BASE; break;
    case FT_REGULAR_FILE:
    case FT_BLOCK_DEVICE: mask = R_FILE_BASE; break;
    default: mask = R_STREAM_BASE; break;
    }
    uint32_t nfd;
    if ((e = wasi_fd_add(c->w, h, type, base & mask, type == FT_DIRECTORY ? inh : 0, &nfd))) return e;
    wasi_put_u32(c, outp, nfd);
    return W_ESUCCESS;
}

/* ---- the other path calls ------------------------------------------------------------------------ */

uint16_t wasi_path_create_directory(wasi_call *c, const k23vm_val *a)
{
    resolved r;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_CREATE_DIRECTORY, ARG_U32(1), ARG_U32(2), false, &r);
    if (e) return e;
    e = mkdirat(r.dir, r.name, 0777) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_remove_directory(wasi_call *c, const k23vm_val *a)
{
    resolved r;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_REMOVE_DIRECTORY, ARG_U32(1), ARG_U32(2), false, &r);
    if (e) return e;
    if (!strcmp(r.name, "."))
        e = W_EINVAL; /* rmdir of "." or ".." */
    else
        e = unlinkat(r.dir, r.name, AT_REMOVEDIR) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_unlink_file(wasi_call *c, const k23vm_val *a)
{
    resolved r;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_UNLINK_FILE, ARG_U32(1), ARG_U32(2), false, &r);
    if (e) return e;
    if (r.must_dir) {
        /* "file/" names a directory or nothing. */
        struct stat st;
        e = fstatat(r.dir, r.name, &st, AT_SYMLINK_NOFOLLOW) ? wasi_errno(errno)
            : S_ISDIR(st.st_mode)                           ? W_EISDIR
                                                            : W_ENOTDIR;
    } else {
        e = unlinkat(r.dir, r.name, 0) ? wasi_errno(errno) : W_ESUCCESS;
    }
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_filestat_get(wasi_call *c, const k23vm_val *a)
{
    uint32_t outp = ARG_U32(4);
    WASI_CHECK(c, outp, 64);
    resolved r;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_FILESTAT_GET, ARG_U32(2), ARG_U32(3),
                         ARG_U32(1) & LOOKUP_SYMLINK_FOLLOW, &r);
    if (e) return e;
    struct stat st;
    if (fstatat(r.dir, r.name, &st, AT_SYMLINK_NOFOLLOW))
        e = wasi_errno(errno);
    else
        wasi_put_filestat(c, outp, &st);
    resolved_done(&r);
    return e;
}

uint16_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

uint16_t wasi_path_filestat_set_times(wasi_call *c, const k23vm_val *a)
{
    struct timespec ts[2];
    uint16_t e = wasi_times(ARG_U64(4), ARG_U64(5), ARG_U32(6), ts);
    if (e) return e;
    resolved r;
    if ((e = resolve(c, ARG_U32(0), R_PATH_FILESTAT_SET_TIMES, ARG_U32(2), ARG_U32(3),
                     ARG_U32(1) & LOOKUP_SYMLINK_FOLLOW, &r)))
        return e;
    e = utimensat(r.dir, r.name, ts, AT_SYMLINK_NOFOLLOW) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_readlink(wasi_call *c, const k23vm_val *a)
{
    uint32_t buf = ARG_U32(3), len = ARG_U32(4), usedp = ARG_U32(5);
    WASI_CHECK(c, buf, len);
    WASI_CHECK(c, usedp, 4);
    resolved r;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_READLINK, ARG_U32(1), ARG_U32(2), false, &r);
    if (e) return e;
    char target[PATH_MAX];
    ssize_t n = readlinkat(r.dir, r.name, target, sizeof target);
    if (n < 0) {
        e = wasi_errno(errno);
    } else {
        /* Cut to the buffer, as readlink(2) does. */
        uint32_t m = (uint64_t)n < len ? (uint32_t)n : len;
        memcpy(c->mem + buf, target, m);
        wasi_put_u32(c, usedp, m);
    }
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_symlink(wasi_call *c, const k23vm_val *a)
{
    uint32_t oldp = ARG_U32(0), oldlen = ARG_U32(1);
    WASI_CHECK(c, oldp, oldlen);
    if (oldlen == 0) return W_ENOENT;
    if (oldlen >= PATH_MAX) return W_ENAMETOOLONG;
    const char *old = (const char *)c->mem + oldp;
    if (memchr(old, 0, oldlen)) return W_EINVAL;
    /* A link to an absolute path would point out of the sandbox for anyone who follows it on
     * the host; the guest could never follow it anyway. */
    if (old[0] == '/') return W_ENOTCAPABLE;
    char target[PATH_MAX];
    memcpy(target, old, oldlen);
    target[oldlen] = 0;
    resolved r;
    uint16_t e = resolve(c, ARG_U32(2), R_PATH_SYMLINK, ARG_U32(3), ARG_U32(4), false, &r);
    if (e) return e;
    e = symlinkat(target, r.dir, r.name) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&r);
    return e;
}

uint16_t wasi_path_link(wasi_call *c, const k23vm_val *a)
{
    resolved from, to;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_LINK_SOURCE, ARG_U32(2), ARG_U32(3),
                         ARG_U32(1) & LOOKUP_SYMLINK_FOLLOW, &from);
    if (e) return e;
    if ((e = resolve(c, ARG_U32(4), R_PATH_LINK_TARGET, ARG_U32(5), ARG_U32(6), false, &to))) {
        resolved_done(&from);
        return e;
    }
    e = linkat(from.dir, from.name, to.dir, to.name, 0) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&from);
    resolved_done(&to);
    return e;
}

uint16_t wasi_path_rename(wasi_call *c, const k23vm_val *a)
{
    resolved from, to;
    uint16_t e = resolve(c, ARG_U32(0), R_PATH_RENAME_SOURCE, ARG_U32(1), ARG_U32(2), false, &from);
    if (e) return e;
    if ((e = resolve(c, ARG_U32(3), R_PATH_RENAME_TARGET, ARG_U32(4), ARG_U32(5), false, &to))) {
        resolved_done(&from);
        return e;
    }
    e = renameat(from.dir, from.name, to.dir, to.name) ? wasi_errno(errno) : W_ESUCCESS;
    resolved_done(&from);
    resolved_done(&to);
    return e;
}
