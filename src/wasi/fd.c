/* fd.c - the fd_* calls of WASI preview 1 (libk23wasi.a): reading, writing, seeking, stat and
 * times, sizes, flags and rights, preopen names, directory listings and renumbering, on the guest's
 * descriptor table (wasi_impl.h). Every guest pointer and length is checked against the calling
 * instance's memory first (EFAULT); every call checks the descriptor's rights (ENOTCAPABLE).
 */
#include "wasi_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#define ARG_U32(i) ((uint32_t)a[i].of.i32)
#define ARG_U64(i) ((uint64_t)a[i].of.i64)

/* ---- iovecs ------------------------------------------------------------------------------------ */

uint16_t wasi_get_iovs(wasi_call *c, uint32_t iovs, uint32_t count, struct iovec *out, size_t *n)
{
    if (count > IOV_MAX) count = IOV_MAX;
    WASI_CHECK(c, iovs, (uint64_t)count * 8);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t buf = wasi_get_u32(c, iovs + i * 8), len = wasi_get_u32(c, iovs + i * 8 + 4);
        WASI_CHECK(c, buf, len);
        out[i].iov_base = c->mem + buf;
        out[i].iov_len = len;
    }
    *n = count;
    return W_ESUCCESS;
}

static uint16_t do_rw(wasi_call *c, const k23vm_val *a, bool write, bool positional)
{
    uint32_t fd = ARG_U32(0), iovs = ARG_U32(1), count = ARG_U32(2);
    uint64_t off = positional ? ARG_U64(3) : 0;
    uint32_t resp = positional ? ARG_U32(4) : ARG_U32(3);
    wasi_fd *f;
    uint64_t need = (write ? R_FD_WRITE : R_FD_READ) | (positional ? R_FD_SEEK : 0);
    uint16_t e = wasi_fd_get(c->w, fd, need, &f);
    if (e) return e;
    WASI_CHECK(c, resp, 4);
    static _Thread_local struct iovec v[IOV_MAX];
    size_t nv;
    if ((e = wasi_get_iovs(c, iovs, count, v, &nv))) return e;
    int n = (int)nv; /* at most IOV_MAX */
    if (positional && off > INT64_MAX) return W_EINVAL;
    ssize_t r;
    do {
        if (write)
            r = positional ? pwritev(f->host, v, n, (off_t)off) : writev(f->host, v, n);
        else
            r = positional ? preadv(f->host, v, n, (off_t)off) : readv(f->host, v, n);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return wasi_errno(errno);
    wasi_put_u32(c, resp, (uint32_t)r);
    return W_ESUCCESS;
}

uint16_t wasi_fd_read(wasi_call *c, const k23vm_val *a) { return do_rw(c, a, false, false); }
uint16_t wasi_fd_write(wasi_call *c, const k23vm_val *a) { return do_rw(c, a, true, false); }
uint16_t wasi_fd_pread(wasi_call *c, const k23vm_val *a) { return do_rw(c, a, false, true); }
uint16_t wasi_fd_pwrite(wasi_call *c, const k23vm_val *a) { return do_rw(c, a, true, true); }

/* ---- seek, tell --------------------------------------------------------------------------------- */

uint16_t wasi_fd_seek(wasi_call *c, const k23vm_val *a)
{
    uint32_t fd = ARG_U32(0), whence = ARG_U32(2), resp = ARG_U32(3);
    int64_t off = a[1].of.i64;
    wasi_fd *f;
    /* Asking where one is (0 from the current position) needs only fd_tell. */
    uint64_t need = (off == 0 && whence == 1) ? R_FD_TELL : R_FD_SEEK;
    uint16_t e = wasi_fd_get(c->w, fd, need, &f);
    if (e == W_ENOTCAPABLE && need == R_FD_TELL) e = wasi_fd_get(c->w, fd, R_FD_SEEK, &f);
    if (e) return e;
    int hw;
    switch (whence) {
    case 0: hw = SEEK_SET; break;
    case 1: hw = SEEK_CUR; break;
    case 2: hw = SEEK_END; break;
    default: return W_EINVAL;
    }
    WASI_CHECK(c, resp, 8);
    off_t r = lseek(f->host, (off_t)off, hw);
    if (r < 0) return wasi_errno(errno);
    wasi_put_u64(c, resp, (uint64_t)r);
    return W_ESUCCESS;
}

uint16_t wasi_fd_tell(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_TELL, &f);
    if (e) return e;
    WASI_CHECK(c, ARG_U32(1), 8);
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return wasi_errno(errno);
    wasi_put_u64(c, ARG_U32(1), (uint64_t)r);
    return W_ESUCCESS;
}

/* ---- close, renumber, sync, advise, allocate ------------------------------------------------------ */

uint16_t wasi_fd_close(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &f);
    if (e) return e;
    wasi_fd_release(f);
    return W_ESUCCESS;
}

uint16_t wasi_fd_renumber(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *from, *to;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &from);
    if (e) return e;
    if ((e = wasi_fd_get(c->w, ARG_U32(1), 0, &to))) return e;
    if (from == to) return W_ESUCCESS;
    wasi_fd_release(to);
    *to = *from;
    from->host = -1;
    from->preopen = NULL;
    from->ents = NULL;
    from->nents = 0;
    return W_ESUCCESS;
}

uint16_t wasi_fd_sync(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_SYNC, &f);
    if (e) return e;
    return fsync(f->host) ? wasi_errno(errno) : W_ESUCCESS;
}

uint16_t wasi_fd_datasync(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_DATASYNC, &f);
    if (e) return e;
    return fdatasync(f->host) ? wasi_errno(errno) : W_ESUCCESS;
}

uint16_t wasi_fd_advise(wasi_call *c, const k23vm_val *a)
{
    static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_ADVISE, &f);
    if (e) return e;
    uint32_t adv = ARG_U32(3);
    if (adv >= sizeof advice / sizeof *advice) return W_EINVAL;
    if (ARG_U64(1) > INT64_MAX || ARG_U64(2) > INT64_MAX) return W_EINVAL;
    if (f->type == FT_DIRECTORY) return W_EBADF;
    int r = posix_fadvise(f->host, (off_t)ARG_U64(1), (off_t)ARG_U64(2), advice[adv]);
    return r == ESPIPE ? W_ESPIPE : r ? wasi_errno(r) : W_ESUCCESS;
}

uint16_t wasi_fd_allocate(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_ALLOCATE, &f);
    if (e) return e;
    uint64_t off = ARG_U64(1), len = ARG_U64(2);
    if (off > INT64_MAX || len > INT64_MAX || off + len > INT64_MAX) return W_EINVAL;
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return r ? wasi_errno(r) : W_ESUCCESS;
}

/* ---- fdstat ---------------------------------------------------------------------------------------- */

uint16_t wasi_fd_fdstat_get(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &f);
    if (e) return e;
    uint32_t p = ARG_U32(1);
    WASI_CHECK(c, p, 24);
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    uint16_t flags = 0;
    if (fl & O_APPEND) flags |= FDFL_APPEND;
    if (fl & O_NONBLOCK) flags |= FDFL_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC)
        flags |= FDFL_SYNC | FDFL_RSYNC;
    else if (fl & O_DSYNC)
        flags |= FDFL_DSYNC;
    memset(c->mem + p, 0, 24);
    wasi_put_u8(c, p, f->type);
    wasi_put_u16(c, p + 2, flags);
    wasi_put_u64(c, p + 8, f->base);
    wasi_put_u64(c, p + 16, f->inh);
    return W_ESUCCESS;
}

uint16_t wasi_fd_fdstat_set_flags(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_FDSTAT_SET_FLAGS, &f);
    if (e) return e;
    uint32_t want = ARG_U32(1);
    if (want & ~0x1fu) return W_EINVAL;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    /* Linux changes only O_APPEND and O_NONBLOCK of an open file; the sync flags are fixed at
     * open. Asking for a change of those is ENOTSUP. */
    bool has_sync = (fl & O_SYNC) == O_SYNC, has_dsync = (fl & O_DSYNC) != 0;
    bool want_sync = want & (FDFL_SYNC | FDFL_RSYNC), want_dsync = (want & FDFL_DSYNC) || want_sync;
    if (want_sync != has_sync || want_dsync != has_dsync) return W_ENOTSUP;
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (want & FDFL_APPEND) fl |= O_APPEND;
    if (want & FDFL_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(f->host, F_SETFL, fl) ? wasi_errno(errno) : W_ESUCCESS;
}

uint16_t wasi_fd_fdstat_set_rights(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &f);
    if (e) return e;
    uint64_t base = ARG_U64(1), inh = ARG_U64(2);
    /* Rights can only be dropped. */
    if ((base & ~f->base) || (inh & ~f->inh)) return W_ENOTCAPABLE;
    f->base = base;
    f->inh = inh;
    return W_ESUCCESS;
}

/* ---- filestat ---------------------------------------------------------------------------------------- */

uint16_t wasi_fd_filestat_get(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_FILESTAT_GET, &f);
    if (e) return e;
    WASI_CHECK(c, ARG_U32(1), 64);
    struct stat st;
    if (fstat(f->host, &st)) return wasi_errno(errno);
    wasi_put_filestat(c, ARG_U32(1), &st);
    return W_ESUCCESS;
}

uint16_t wasi_fd_filestat_set_size(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_FILESTAT_SET_SIZE, &f);
    if (e) return e;
    if (ARG_U64(1) > INT64_MAX) return W_EINVAL;
    return ftruncate(f->host, (off_t)ARG_U64(1)) ? wasi_errno(errno) : W_ESUCCESS;
}

/* preview 1 fstflags -> the two timespecs of futimens/utimensat; EINVAL for a time both given
 * and "now". Shared with path.c. */
uint16_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);
uint16_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2])
{
    if (fst & ~0xfu) return W_EINVAL;
    if ((fst & FST_ATIM) && (fst & FST_ATIM_NOW)) return W_EINVAL;
    if ((fst & FST_MTIM) && (fst & FST_MTIM_NOW)) return W_EINVAL;
    uint64_t t[2] = {atim, mtim};
    uint32_t set[2] = {FST_ATIM, FST_MTIM}, now[2] = {FST_ATIM_NOW, FST_MTIM_NOW};
    for (int i = 0; i < 2; i++) {
        if (fst & now[i]) {
            ts[i].tv_sec = 0;
            ts[i].tv_nsec = UTIME_NOW;
        } else if (fst & set[i]) {
            ts[i].tv_sec = (time_t)(t[i] / 1000000000u);
            ts[i].tv_nsec = (long)(t[i] % 1000000000u);
        } else {
            ts[i].tv_sec = 0;
            ts[i].tv_nsec = UTIME_OMIT;
        }
    }
    return W_ESUCCESS;
}

uint16_t wasi_fd_filestat_set_times(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_FILESTAT_SET_TIMES, &f);
    if (e) return e;
    struct timespec ts[2];
    if ((e = wasi_times(ARG_U64(1), ARG_U64(2), ARG_U32(3), ts))) return e;
    return futimens(f->host, ts) ? wasi_errno(errno) : W_ESUCCESS;
}

/* ---- preopens ------------------------------------------------------------------------------------ */

uint16_t wasi_fd_prestat_get(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &f);
    if (e) return e;
    if (!f->preopen) return W_EBADF;
    uint32_t p = ARG_U32(1);
    WASI_CHECK(c, p, 8);
    memset(c->mem + p, 0, 8);
    wasi_put_u8(c, p, 0); /* preopentype dir */
    wasi_put_u32(c, p + 4, (uint32_t)strlen(f->preopen));
    return W_ESUCCESS;
}

uint16_t wasi_fd_prestat_dir_name(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), 0, &f);
    if (e) return e;
    if (!f->preopen) return W_EBADF;
    uint32_t p = ARG_U32(1), len = ARG_U32(2);
    size_t n = strlen(f->preopen);
    WASI_CHECK(c, p, len);
    if (len < n) return W_ENAMETOOLONG;
    memcpy(c->mem + p, f->preopen, n);
    return W_ESUCCESS;
}

/* ---- fd_readdir ----------------------------------------------------------------------------------
 * The cookie is the index of the next entry in a listing taken when a read starts at cookie 0 (so
 * a cookie stays meaningful however the directory changes meanwhile). Each entry is a 24-byte
 * dirent (d_next, d_ino, d_namlen, d_type) followed by the name; the last one is cut off when the
 * buffer ends, and bufused == buf_len tells the guest to read on. */

static uint16_t take_listing(wasi_fd *f)
{
    wasi_fd_clear_listing(f);
    int dfd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return wasi_errno(errno);
    DIR *d = fdopendir(dfd);
    if (!d) {
        int err = errno;
        close(dfd);
        return wasi_errno(err);
    }
    size_t cap = 0;
    uint16_t e = W_ESUCCESS;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) e = wasi_errno(errno);
            break;
        }
        if (f->nents == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            wasi_dirent *n = realloc(f->ents, ncap * sizeof *n);
            if (!n) {
                e = W_ENOMEM;
                break;
            }
            f->ents = n;
            cap = ncap;
        }
        wasi_dirent *ent = &f->ents[f->nents];
        ent->namlen = (uint32_t)strlen(de->d_name);
        ent->name = malloc(ent->namlen + 1);
        if (!ent->name) {
            e = W_ENOMEM;
            break;
        }
        memcpy(ent->name, de->d_name, ent->namlen + 1);
        ent->ino = de->d_ino;
        switch (de->d_type) {
        case DT_REG: ent->type = FT_REGULAR_FILE; break;
        case DT_DIR: ent->type = FT_DIRECTORY; break;
        case DT_LNK: ent->type = FT_SYMBOLIC_LINK; break;
        case DT_CHR: ent->type = FT_CHARACTER_DEVICE; break;
        case DT_BLK: ent->type = FT_BLOCK_DEVICE; break;
        case DT_SOCK: ent->type = FT_SOCKET_STREAM; break;
        default: {
            struct stat st;
            ent->type = fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ? FT_UNKNOWN : wasi_filetype(st.st_mode);
        }
        }
        f->nents++;
    }
    closedir(d);
    return e;
}

uint16_t wasi_fd_readdir(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = wasi_fd_get(c->w, ARG_U32(0), R_FD_READDIR, &f);
    if (e) return e;
    if (f->type != FT_DIRECTORY) return W_ENOTDIR;
    uint32_t buf = ARG_U32(1), len = ARG_U32(2), usedp = ARG_U32(4);
    uint64_t cookie = ARG_U64(3);
    WASI_CHECK(c, buf, len);
    WASI_CHECK(c, usedp, 4);
    if (cookie == 0 || !f->ents) {
        if ((e = take_listing(f))) return e;
    }
    uint32_t used = 0;
    for (uint64_t i = cookie; i < f->nents && used < len; i++) {
        const wasi_dirent *ent = &f->ents[i];
        uint8_t hdr[24];
        uint64_t next = i + 1;
        memcpy(hdr, &next, 8);
        memcpy(hdr + 8, &ent->ino, 8);
        memcpy(hdr + 16, &ent->namlen, 4);
        hdr[20] = ent->type;
        hdr[21] = hdr[22] = hdr[23] = 0;
        uint32_t n = len - used < 24 ? len - used : 24;
        memcpy(c->mem + buf + used, hdr, n);
        used += n;
        n = len - used < ent->namlen ? len - used : ent->namlen;
        memcpy(c->mem + buf + used, ent->name, n);
        used += n;
    }
    wasi_put_u32(c, usedp, used);
    return W_ESUCCESS;
}
