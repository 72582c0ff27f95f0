/* wasi.c - WASI preview 1 for k23vm (libk23wasi.a, include/k23vm/wasi.h): the context and its
 * descriptor table, the import table that k23vm_wasi_define puts into a linker, and the calls that
 * are not about files: args, environ, clocks, random, poll_oneoff, proc_exit/proc_raise,
 * sched_yield and the sock_* calls. The fd_* calls live in fd.c, the path_* calls and the sandboxed
 * path resolution in path.c. A hosted library on top of the public API: the freestanding core
 * does not contain it.
 */
#include "wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define ARG_U32(i) ((uint32_t)a[i].of.i32)
#define ARG_U64(i) ((uint64_t)a[i].of.i64)

/* ---- errno ----------------------------------------------------------------------------------- */

uint16_t wasi_errno(int e)
{
    switch (e) {
    case 0: return W_ESUCCESS;
    case E2BIG: return W_E2BIG;
    case EACCES: return W_EACCES;
    case EADDRINUSE: return W_EADDRINUSE;
    case EADDRNOTAVAIL: return W_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return W_EAFNOSUPPORT;
    case EAGAIN: return W_EAGAIN;
    case EALREADY: return W_EALREADY;
    case EBADF: return W_EBADF;
    case EBADMSG: return W_EBADMSG;
    case EBUSY: return W_EBUSY;
    case ECANCELED: return W_ECANCELED;
    case ECHILD: return W_ECHILD;
    case ECONNABORTED: return W_ECONNABORTED;
    case ECONNREFUSED: return W_ECONNREFUSED;
    case ECONNRESET: return W_ECONNRESET;
    case EDEADLK: return W_EDEADLK;
    case EDESTADDRREQ: return W_EDESTADDRREQ;
    case EDOM: return W_EDOM;
    case EDQUOT: return W_EDQUOT;
    case EEXIST: return W_EEXIST;
    case EFAULT: return W_EFAULT;
    case EFBIG: return W_EFBIG;
    case EHOSTUNREACH: return W_EHOSTUNREACH;
    case EIDRM: return W_EIDRM;
    case EILSEQ: return W_EILSEQ;
    case EINPROGRESS: return W_EINPROGRESS;
    case EINTR: return W_EINTR;
    case EINVAL: return W_EINVAL;
    case EIO: return W_EIO;
    case EISCONN: return W_EISCONN;
    case EISDIR: return W_EISDIR;
    case ELOOP: return W_ELOOP;
    case EMFILE: return W_EMFILE;
    case EMLINK: return W_EMLINK;
    case EMSGSIZE: return W_EMSGSIZE;
    case EMULTIHOP: return W_EMULTIHOP;
    case ENAMETOOLONG: return W_ENAMETOOLONG;
    case ENETDOWN: return W_ENETDOWN;
    case ENETRESET: return W_ENETRESET;
    case ENETUNREACH: return W_ENETUNREACH;
    case ENFILE: return W_ENFILE;
    case ENOBUFS: return W_ENOBUFS;
    case ENODEV: return W_ENODEV;
    case ENOENT: return W_ENOENT;
    case ENOEXEC: return W_ENOEXEC;
    case ENOLCK: return W_ENOLCK;
    case ENOLINK: return W_ENOLINK;
    case ENOMEM: return W_ENOMEM;
    case ENOMSG: return W_ENOMSG;
    case ENOPROTOOPT: return W_ENOPROTOOPT;
    case ENOSPC: return W_ENOSPC;
    case ENOSYS: return W_ENOSYS;
    case ENOTCONN: return W_ENOTCONN;
    case ENOTDIR: return W_ENOTDIR;
    case ENOTEMPTY: return W_ENOTEMPTY;
    case ENOTRECOVERABLE: return W_ENOTRECOVERABLE;
    case ENOTSOCK: return W_ENOTSOCK;
    case EOPNOTSUPP: return W_ENOTSUP;
    case ENOTTY: return W_ENOTTY;
    case ENXIO: return W_ENXIO;
    case EOVERFLOW: return W_EOVERFLOW;
    case EOWNERDEAD: return W_EOWNERDEAD;
    case EPERM: return W_EPERM;
    case EPIPE: return W_EPIPE;
    case EPROTO: return W_EPROTO;
    case EPROTONOSUPPORT: return W_EPROTONOSUPPORT;
    case EPROTOTYPE: return W_EPROTOTYPE;
    case ERANGE: return W_ERANGE;
    case EROFS: return W_EROFS;
    case ESPIPE: return W_ESPIPE;
    case ESRCH: return W_ESRCH;
    case ESTALE: return W_ESTALE;
    case ETIMEDOUT: return W_ETIMEDOUT;
    case ETXTBSY: return W_ETXTBSY;
    case EXDEV: return W_EXDEV;
    default: return W_EIO;
    }
}

/* ---- descriptors ------------------------------------------------------------------------------- */

uint8_t wasi_filetype(mode_t m)
{
    if (S_ISREG(m)) return FT_REGULAR_FILE;
    if (S_ISDIR(m)) return FT_DIRECTORY;
    if (S_ISCHR(m)) return FT_CHARACTER_DEVICE;
    if (S_ISBLK(m)) return FT_BLOCK_DEVICE;
    if (S_ISLNK(m)) return FT_SYMBOLIC_LINK;
    if (S_ISSOCK(m)) return FT_SOCKET_STREAM;
    return FT_UNKNOWN;
}

void wasi_put_filestat(wasi_call *c, uint32_t p, const struct stat *st)
{
    memset(c->mem + p, 0, 64);
    wasi_put_u64(c, p, (uint64_t)st->st_dev);
    wasi_put_u64(c, p + 8, (uint64_t)st->st_ino);
    wasi_put_u8(c, p + 16, wasi_filetype(st->st_mode));
    wasi_put_u64(c, p + 24, (uint64_t)st->st_nlink);
    wasi_put_u64(c, p + 32, (uint64_t)st->st_size);
    wasi_put_u64(c, p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
    wasi_put_u64(c, p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    wasi_put_u64(c, p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
}

uint16_t wasi_fd_get(k23vm_wasi *w, uint32_t fd, uint64_t need, wasi_fd **out)
{
    if (fd >= w->nfds || w->fds[fd].host < 0) return W_EBADF;
    wasi_fd *f = &w->fds[fd];
    if ((f->base & need) != need) return W_ENOTCAPABLE;
    *out = f;
    return W_ESUCCESS;
}

void wasi_fd_clear_listing(wasi_fd *f)
{
    for (size_t i = 0; i < f->nents; i++) free(f->ents[i].name);
    free(f->ents);
    f->ents = NULL;
    f->nents = 0;
}

void wasi_fd_release(wasi_fd *f)
{
    if (f->host >= 0) close(f->host);
    f->host = -1;
    free(f->preopen);
    f->preopen = NULL;
    wasi_fd_clear_listing(f);
}

/* Most descriptors a guest may hold: a bound on the table, well above a process's usual limit. */
#define WASI_MAX_FDS (1u << 20)

static uint16_t fd_add_from(k23vm_wasi *w, size_t i, int host, uint8_t type, uint64_t base, uint64_t inh,
                            uint32_t *out)
{
    while (i < w->nfds && w->fds[i].host >= 0) i++;
    if (i == w->nfds) {
        if (w->nfds >= WASI_MAX_FDS) {
            close(host);
            return W_EMFILE;
        }
        size_t n = w->nfds ? w->nfds * 2 : 16;
        wasi_fd *nf = realloc(w->fds, n * sizeof *nf);
        if (!nf) {
            close(host);
            return W_ENOMEM;
        }
        for (size_t j = w->nfds; j < n; j++) nf[j] = (wasi_fd){.host = -1};
        w->fds = nf;
        w->nfds = n;
    }
    w->fds[i] = (wasi_fd){.host = host, .type = type, .base = base, .inh = inh};
    *out = (uint32_t)i;
    return W_ESUCCESS;
}

uint16_t wasi_fd_add(k23vm_wasi *w, int host, uint8_t type, uint64_t base, uint64_t inh, uint32_t *out)
{
    return fd_add_from(w, 0, host, type, base, inh, out);
}

/* Type and rights of a host descriptor handed to the guest. */
static void classify(int host, uint8_t *type, uint64_t *base, uint64_t *inh)
{
    struct stat st;
    *type = fstat(host, &st) ? FT_UNKNOWN : wasi_filetype(st.st_mode);
    *inh = 0;
    switch (*type) {
    case FT_DIRECTORY:
        *base = R_DIR_BASE;
        *inh = R_DIR_INHERITING;
        break;
    case FT_REGULAR_FILE:
    case FT_BLOCK_DEVICE: *base = R_FILE_BASE; break;
    case FT_SOCKET_STREAM: {
        int stype = 0;
        socklen_t l = sizeof stype;
        if (!getsockopt(host, SOL_SOCKET, SO_TYPE, &stype, &l) && stype == SOCK_DGRAM) *type = FT_SOCKET_DGRAM;
        *base = R_SOCK_BASE;
        break;
    }
    default: *base = R_STREAM_BASE; break;
    }
}

/* ---- args and environment ---------------------------------------------------------------------- */

static uint16_t strings_sizes(wasi_call *c, char **v, size_t n, uint32_t countp, uint32_t sizep)
{
    WASI_CHECK(c, countp, 4);
    WASI_CHECK(c, sizep, 4);
    uint64_t size = 0;
    for (size_t i = 0; i < n; i++) size += strlen(v[i]) + 1;
    if (size > UINT32_MAX || n > UINT32_MAX) return W_EOVERFLOW;
    wasi_put_u32(c, countp, (uint32_t)n);
    wasi_put_u32(c, sizep, (uint32_t)size);
    return W_ESUCCESS;
}

static uint16_t strings_get(wasi_call *c, char **v, size_t n, uint32_t ptrs, uint32_t buf)
{
    uint64_t size = 0;
    for (size_t i = 0; i < n; i++) size += strlen(v[i]) + 1;
    WASI_CHECK(c, ptrs, (uint64_t)n * 4);
    WASI_CHECK(c, buf, size);
    uint32_t at = buf;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]) + 1;
        wasi_put_u32(c, ptrs + (uint32_t)i * 4, at);
        memcpy(c->mem + at, v[i], l);
        at += (uint32_t)l;
    }
    return W_ESUCCESS;
}

static uint16_t wasi_args_sizes_get(wasi_call *c, const k23vm_val *a)
{
    return strings_sizes(c, c->w->argv, c->w->argc, ARG_U32(0), ARG_U32(1));
}
static uint16_t wasi_args_get(wasi_call *c, const k23vm_val *a)
{
    return strings_get(c, c->w->argv, c->w->argc, ARG_U32(0), ARG_U32(1));
}
static uint16_t wasi_environ_sizes_get(wasi_call *c, const k23vm_val *a)
{
    return strings_sizes(c, c->w->envp, c->w->envc, ARG_U32(0), ARG_U32(1));
}
static uint16_t wasi_environ_get(wasi_call *c, const k23vm_val *a)
{
    return strings_get(c, c->w->envp, c->w->envc, ARG_U32(0), ARG_U32(1));
}

/* ---- clocks and random ------------------------------------------------------------------------- */

static bool host_clock(uint32_t id, clockid_t *out)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    if (id >= 4) return false;
    *out = ids[id];
    return true;
}

static uint64_t ts_ns(const struct timespec *ts) { return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec; }

static uint16_t wasi_clock_res_get(wasi_call *c, const k23vm_val *a)
{
    clockid_t id;
    if (!host_clock(ARG_U32(0), &id)) return W_EINVAL;
    WASI_CHECK(c, ARG_U32(1), 8);
    struct timespec ts;
    if (clock_getres(id, &ts)) return wasi_errno(errno);
    wasi_put_u64(c, ARG_U32(1), ts_ns(&ts));
    return W_ESUCCESS;
}

static uint16_t wasi_clock_time_get(wasi_call *c, const k23vm_val *a)
{
    clockid_t id;
    if (!host_clock(ARG_U32(0), &id)) return W_EINVAL;
    WASI_CHECK(c, ARG_U32(2), 8);
    struct timespec ts;
    if (clock_gettime(id, &ts)) return wasi_errno(errno);
    wasi_put_u64(c, ARG_U32(2), ts_ns(&ts));
    return W_ESUCCESS;
}

static uint16_t wasi_random_get(wasi_call *c, const k23vm_val *a)
{
    uint32_t buf = ARG_U32(0), len = ARG_U32(1);
    WASI_CHECK(c, buf, len);
    while (len) {
        ssize_t r = getrandom(c->mem + buf, len, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return wasi_errno(errno);
        }
        buf += (uint32_t)r;
        len -= (uint32_t)r;
    }
    return W_ESUCCESS;
}

/* ---- poll_oneoff ---------------------------------------------------------------------------------
 * Subscriptions are 48 bytes: userdata u64, tag u8 at 8, then at 16 either a clock (id u32,
 * timeout u64 at 24, precision u64 at 32, flags u16 at 40) or an fd (u32). Events are 32 bytes:
 * userdata u64, error u16 at 8, type u8 at 10, nbytes u64 at 16, flags u16 at 24. Clocks are
 * waited for with ppoll on the fds (or on none); an fd that is not there or lacks the right gives
 * an event carrying the error at once. */

#define POLL_MAX_SUBS 4096

static void put_event(wasi_call *c, uint32_t p, uint64_t userdata, uint16_t err, uint8_t type, uint64_t nbytes,
                      uint16_t flags)
{
    memset(c->mem + p, 0, 32);
    wasi_put_u64(c, p, userdata);
    wasi_put_u16(c, p + 8, err);
    wasi_put_u8(c, p + 10, type);
    wasi_put_u64(c, p + 16, nbytes);
    wasi_put_u16(c, p + 24, flags);
}

static uint16_t wasi_poll_oneoff(wasi_call *c, const k23vm_val *a)
{
    uint32_t in = ARG_U32(0), out = ARG_U32(1), nsubs = ARG_U32(2), neventsp = ARG_U32(3);
    if (nsubs == 0) return W_EINVAL;
    if (nsubs > POLL_MAX_SUBS) return W_ENOTSUP;
    WASI_CHECK(c, in, (uint64_t)nsubs * 48);
    WASI_CHECK(c, out, (uint64_t)nsubs * 32);
    WASI_CHECK(c, neventsp, 4);

    struct pollfd *pfds = calloc(nsubs, sizeof *pfds);
    uint32_t *sub_of = calloc(nsubs, sizeof *sub_of); /* pollfd index -> subscription */
    uint64_t *wait = calloc(nsubs, sizeof *wait);      /* clock subscription -> ns from now */
    if (!pfds || !sub_of || !wait) {
        free(pfds);
        free(sub_of);
        free(wait);
        return W_ENOMEM;
    }
    uint32_t nev = 0, npfd = 0;
    bool have_clock = false;
    uint64_t min_wait = UINT64_MAX; /* ns until the earliest clock */
    for (uint32_t i = 0; i < nsubs; i++) {
        uint32_t s = in + i * 48;
        uint64_t ud = wasi_get_u64(c, s);
        uint8_t tag = c->mem[s + 8];
        wait[i] = UINT64_MAX;
        if (tag == 0) {
            clockid_t id;
            uint64_t timeout = wasi_get_u64(c, s + 24);
            uint16_t flags = wasi_get_u16(c, s + 40);
            struct timespec now;
            if (!host_clock(wasi_get_u32(c, s + 16), &id) || clock_gettime(id, &now)) {
                put_event(c, out + nev++ * 32, ud, W_EINVAL, 0, 0, 0);
                continue;
            }
            /* subclockflags abstime: timeout is a time of that clock, else a duration. */
            uint64_t w = timeout;
            if (flags & 1) w = timeout > ts_ns(&now) ? timeout - ts_ns(&now) : 0;
            wait[i] = w;
            have_clock = true;
            if (w < min_wait) min_wait = w;
        } else if (tag == 1 || tag == 2) {
            wasi_fd *f;
            uint16_t e = wasi_fd_get(c->w, wasi_get_u32(c, s + 16), R_POLL_FD_READWRITE, &f);
            if (e) {
                put_event(c, out + nev++ * 32, ud, e, tag, 0, 0);
                continue;
            }
            pfds[npfd].fd = f->host;
            pfds[npfd].events = tag == 1 ? POLLIN : POLLOUT;
            sub_of[npfd++] = i;
        } else {
            put_event(c, out + nev++ * 32, ud, W_EINVAL, tag, 0, 0);
        }
    }

    uint16_t err = W_ESUCCESS;
    /* Subscriptions that failed at once are events already: then there is no waiting. */
    if (nev == 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        uint64_t spent = 0;
        int r;
        for (;;) {
            struct timespec ts, *tsp = NULL;
            if (have_clock) {
                uint64_t left = min_wait > spent ? min_wait - spent : 0;
                ts.tv_sec = (time_t)(left / 1000000000u);
                ts.tv_nsec = (long)(left % 1000000000u);
                tsp = &ts;
            }
            r = ppoll(pfds, npfd, tsp, NULL);
            clock_gettime(CLOCK_MONOTONIC, &now);
            spent = ts_ns(&now) - ts_ns(&start);
            if (r < 0 && errno != EINTR) {
                err = wasi_errno(errno);
                break;
            }
            if (r > 0) break;
            if (have_clock && spent >= min_wait) break;
            if (!have_clock && npfd == 0) break;
        }
        if (!err && r > 0) {
            for (uint32_t k = 0; k < npfd; k++) {
                if (!pfds[k].revents) continue;
                uint32_t s = in + sub_of[k] * 48;
                uint8_t tag = c->mem[s + 8];
                uint64_t nbytes = 0;
                uint16_t flags = (pfds[k].revents & POLLHUP) ? 1 : 0, e = 0;
                if (pfds[k].revents & POLLNVAL) e = W_EBADF;
                if (tag == 1 && !e) {
                    int avail = 0;
                    struct stat st;
                    if (!fstat(pfds[k].fd, &st) && S_ISREG(st.st_mode)) {
                        off_t pos = lseek(pfds[k].fd, 0, SEEK_CUR);
                        nbytes = pos >= 0 && st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
                    } else if (!ioctl(pfds[k].fd, FIONREAD, &avail) && avail > 0) {
                        nbytes = (uint64_t)avail;
                    }
                }
                put_event(c, out + nev++ * 32, wasi_get_u64(c, s), e, tag, nbytes, flags);
            }
        }
        if (!err && nev == 0 && have_clock) {
            /* Every clock whose time has come (at least the earliest). */
            for (uint32_t i = 0; i < nsubs; i++) {
                if (wait[i] == UINT64_MAX || (wait[i] > spent && wait[i] != min_wait)) continue;
                put_event(c, out + nev++ * 32, wasi_get_u64(c, in + i * 48), 0, 0, 0, 0);
            }
        }
    }
    free(pfds);
    free(sub_of);
    free(wait);
    if (err) return err;
    wasi_put_u32(c, neventsp, nev);
    return W_ESUCCESS;
}

/* ---- process ---------------------------------------------------------------------------------- */

/* proc_exit is special: the trampoline turns this errno into the exit trap. */
#define WASI_EXIT 0xffff

static uint16_t wasi_proc_exit(wasi_call *c, const k23vm_val *a)
{
    c->w->exited = true;
    c->w->exit_code = a[0].of.i32;
    return WASI_EXIT;
}

/* Signals are not delivered to wasm: a program that raises one hears ENOSYS. */
static uint16_t wasi_proc_raise(wasi_call *c, const k23vm_val *a) { return W_ENOSYS; }

static uint16_t wasi_sched_yield(wasi_call *c, const k23vm_val *a)
{
    sched_yield();
    return W_ESUCCESS;
}

/* ---- sockets ------------------------------------------------------------------------------------
 * Only on sockets the embedder handed in (k23vm_wasi_config.sockets) and what sock_accept makes of
 * them. Any other descriptor: ENOTSOCK. */

static uint16_t sock_get(wasi_call *c, uint32_t fd, uint64_t need, wasi_fd **f)
{
    uint16_t e = wasi_fd_get(c->w, fd, 0, f);
    if (e) return e;
    if ((*f)->type != FT_SOCKET_STREAM && (*f)->type != FT_SOCKET_DGRAM) return W_ENOTSOCK;
    return ((*f)->base & need) == need ? W_ESUCCESS : W_ENOTCAPABLE;
}

static uint16_t wasi_sock_accept(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = sock_get(c, ARG_U32(0), R_SOCK_ACCEPT, &f);
    if (e) return e;
    uint32_t flags = ARG_U32(1), outp = ARG_U32(2);
    if (flags & ~(uint32_t)FDFL_NONBLOCK) return W_EINVAL;
    WASI_CHECK(c, outp, 4);
    int s;
    do s = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | ((flags & FDFL_NONBLOCK) ? SOCK_NONBLOCK : 0));
    while (s < 0 && errno == EINTR);
    if (s < 0) return wasi_errno(errno);
    uint32_t nfd;
    if ((e = wasi_fd_add(c->w, s, FT_SOCKET_STREAM, R_SOCK_BASE & ~R_SOCK_ACCEPT, 0, &nfd))) return e;
    wasi_put_u32(c, outp, nfd);
    return W_ESUCCESS;
}

static uint16_t wasi_sock_recv(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = sock_get(c, ARG_U32(0), R_FD_READ, &f);
    if (e) return e;
    uint32_t riflags = ARG_U32(3), lenp = ARG_U32(4), flagsp = ARG_U32(5);
    if (riflags & ~3u) return W_EINVAL;
    WASI_CHECK(c, lenp, 4);
    WASI_CHECK(c, flagsp, 2);
    static _Thread_local struct iovec v[IOV_MAX];
    struct msghdr mh = {.msg_iov = v};
    if ((e = wasi_get_iovs(c, ARG_U32(1), ARG_U32(2), v, &mh.msg_iovlen))) return e;
    int fl = ((riflags & 1) ? MSG_PEEK : 0) | ((riflags & 2) ? MSG_WAITALL : 0);
    ssize_t r;
    do r = recvmsg(f->host, &mh, fl);
    while (r < 0 && errno == EINTR);
    if (r < 0) return wasi_errno(errno);
    wasi_put_u32(c, lenp, (uint32_t)r);
    wasi_put_u16(c, flagsp, (mh.msg_flags & MSG_TRUNC) ? 1 : 0);
    return W_ESUCCESS;
}

static uint16_t wasi_sock_send(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = sock_get(c, ARG_U32(0), R_FD_WRITE, &f);
    if (e) return e;
    uint32_t lenp = ARG_U32(4);
    if (ARG_U32(3)) return W_EINVAL;
    WASI_CHECK(c, lenp, 4);
    static _Thread_local struct iovec v[IOV_MAX];
    struct msghdr mh = {.msg_iov = v};
    if ((e = wasi_get_iovs(c, ARG_U32(1), ARG_U32(2), v, &mh.msg_iovlen))) return e;
    ssize_t r;
    do r = sendmsg(f->host, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) return wasi_errno(errno);
    wasi_put_u32(c, lenp, (uint32_t)r);
    return W_ESUCCESS;
}

static uint16_t wasi_sock_shutdown(wasi_call *c, const k23vm_val *a)
{
    wasi_fd *f;
    uint16_t e = sock_get(c, ARG_U32(0), R_SOCK_SHUTDOWN, &f);
    if (e) return e;
    int how;
    switch (ARG_U32(1)) {
    case 1: how = SHUT_RD; break;
    case 2: how = SHUT_WR; break;
    case 3: how = SHUT_RDWR; break;
    default: return W_EINVAL;
    }
    return shutdown(f->host, how) ? wasi_errno(errno) : W_ESUCCESS;
}

/* ---- the import table ---------------------------------------------------------------------------- */

#define WASI_OTHER_CALLS(X)                                                                          \
    X(args_get, "ii>i")                                                                              \
    X(args_sizes_get, "ii>i")                                                                        \
    X(environ_get, "ii>i")                                                                           \
    X(environ_sizes_get, "ii>i")                                                                     \
    X(clock_res_get, "ii>i")                                                                         \
    X(clock_time_get, "iIi>i")                                                                       \
    X(poll_oneoff, "iiii>i")                                                                         \
    X(proc_exit, "i")                                                                                \
    X(proc_raise, "i>i")                                                                             \
    X(sched_yield, ">i")                                                                             \
    X(random_get, "ii>i")                                                                            \
    X(sock_accept, "iii>i")                                                                          \
    X(sock_recv, "iiiiii>i")                                                                         \
    X(sock_send, "iiiii>i")                                                                          \
    X(sock_shutdown, "ii>i")

typedef struct wasi_import {
    const char *name, *sig;
    wasi_fn fn;
} wasi_import;

static const wasi_import imports[] = {
#define WASI_ENTRY(name, sig) {#name, sig, wasi_##name},
    WASI_OTHER_CALLS(WASI_ENTRY) WASI_FD_CALLS(WASI_ENTRY) WASI_PATH_CALLS(WASI_ENTRY)
#undef WASI_ENTRY
};
#define NIMPORTS (sizeof imports / sizeof *imports)

struct wasi_binding {
    k23vm_wasi *w;
    const wasi_import *imp;
};

static k23vm_trap *trampoline(void *env, k23vm_caller *caller, const k23vm_val *args, k23vm_val *results)
{
    struct wasi_binding *b = env;
    wasi_call c = {.w = b->w, .caller = caller};
    /* Without a memory every pointer but an empty range at 0 is EFAULT; the empty range still
     * needs a pointer that is not NULL. */
    static uint8_t no_memory;
    c.mem = &no_memory;
    k23vm_memory *mem = k23vm_caller_memory(caller);
    if (mem) {
        c.mem = k23vm_memory_data(mem);
        c.memsize = k23vm_memory_data_size(mem);
    }
    uint16_t e = b->imp->fn(&c, args);
    if (e == WASI_EXIT) {
        char msg[48];
        snprintf(msg, sizeof msg, "exit with code %d", b->w->exit_code);
        return k23vm_trap_new(k23vm_caller_store(caller), msg);
    }
    results[0].kind = K23VM_I32;
    results[0].of.i32 = e;
    return NULL;
}

/* ---- the context --------------------------------------------------------------------------------- */

void k23vm_wasi_config_init(k23vm_wasi_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->stdin_fd = 0;
    cfg->stdout_fd = 1;
    cfg->stderr_fd = 2;
}

static char **copy_strings(const char *const *v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(v[i] ? v[i] : "");
        if (!out[i]) {
            for (size_t j = 0; j < i; j++) free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void free_strings(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static k23vm_error *wasi_err(k23vm_error_kind kind, const char *fmt, const char *a1, const char *a2)
{
    return err_new(k23vm_platform_default(), kind, K23VM_NO_OFFSET, fmt, a1, a2);
}

k23vm_error *k23vm_wasi_new(const k23vm_wasi_config *cfg, k23vm_wasi **out)
{
    *out = NULL;
    k23vm_wasi_config defaults;
    if (!cfg) {
        k23vm_wasi_config_init(&defaults);
        cfg = &defaults;
    }
    k23vm_wasi *w = calloc(1, sizeof *w);
    if (!w) return err_oom();
    k23vm_error *err = NULL;
    w->argc = cfg->argc;
    w->envc = cfg->envc;
    w->argv = copy_strings(cfg->argv, cfg->argc);
    w->envp = copy_strings(cfg->envp, cfg->envc);
    if (!w->argv || !w->envp) {
        err = err_oom();
        goto fail;
    }

    k23vm_wasi_resolve mode = cfg->resolve;
    const char *env = getenv("K23VM_WASI_RESOLVE");
    if (mode == K23VM_WASI_RESOLVE_AUTO && env) {
        if (!strcmp(env, "fallback")) mode = K23VM_WASI_RESOLVE_FALLBACK;
        if (!strcmp(env, "openat2")) mode = K23VM_WASI_RESOLVE_OPENAT2;
    }
    w->use_openat2 = mode != K23VM_WASI_RESOLVE_FALLBACK && wasi_have_openat2();
    if (mode == K23VM_WASI_RESOLVE_OPENAT2 && !w->use_openat2) {
        err = wasi_err(K23VM_ERROR_ARGUMENT, "openat2 is not available on this kernel%s%s", "", "");
        goto fail;
    }

    /* stdio: guest 0..2, each a duplicate of the configured host descriptor (or closed). */
    w->fds = malloc(16 * sizeof *w->fds);
    if (!w->fds) {
        err = err_oom();
        goto fail;
    }
    w->nfds = 16;
    for (size_t i = 0; i < w->nfds; i++) w->fds[i] = (wasi_fd){.host = -1};
    int stdio[3] = {cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd};
    for (int i = 0; i < 3; i++) {
        int h = stdio[i] >= 0 ? fcntl(stdio[i], F_DUPFD_CLOEXEC, 3) : -1;
        if (h < 0) continue;
        w->fds[i].host = h;
        classify(h, &w->fds[i].type, &w->fds[i].base, &w->fds[i].inh);
    }
    for (size_t i = 0; i < cfg->npreopens; i++) {
        const k23vm_wasi_preopen *p = &cfg->preopens[i];
        const char *guest = p->guest_path ? p->guest_path : p->host_path;
        int h = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h < 0) {
            err = wasi_err(K23VM_ERROR_ARGUMENT, "cannot open directory %s: %s", p->host_path, strerror(errno));
            goto fail;
        }
        uint32_t fd;
        if (fd_add_from(w, 3, h, FT_DIRECTORY, R_DIR_BASE, R_DIR_INHERITING, &fd)) {
            err = err_oom();
            goto fail;
        }
        if (!(w->fds[fd].preopen = strdup(guest))) {
            err = err_oom();
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->nsockets; i++) {
        int h = fcntl(cfg->sockets[i], F_DUPFD_CLOEXEC, 3);
        if (h < 0) {
            err = wasi_err(K23VM_ERROR_ARGUMENT, "cannot use socket descriptor: %s%s", strerror(errno), "");
            goto fail;
        }
        uint8_t type;
        uint64_t base, inh;
        classify(h, &type, &base, &inh);
        uint32_t fd;
        if (fd_add_from(w, 3, h, type, base, inh, &fd)) {
            err = err_oom();
            goto fail;
        }
    }
    *out = w;
    return NULL;

fail:
    k23vm_wasi_delete(w);
    return err;
}

k23vm_error *k23vm_wasi_define(k23vm_wasi *wasi, k23vm_linker *linker, k23vm_store *store)
{
    if (!wasi || !linker || !store) return err_static(ERR_STATIC_NULL_ARG);
    if (wasi->defined) return wasi_err(K23VM_ERROR_ARGUMENT, "k23vm_wasi_define: already defined%s%s", "", "");
    wasi->bindings = calloc(NIMPORTS, sizeof *wasi->bindings);
    if (!wasi->bindings) return err_oom();
    wasi->defined = true;
    static const char module[] = "wasi_snapshot_preview1";
    for (size_t i = 0; i < NIMPORTS; i++) {
        wasi->bindings[i] = (struct wasi_binding){wasi, &imports[i]};
        k23vm_func *f;
        k23vm_error *err = k23vm_func_new_typed(store, imports[i].sig, trampoline, &wasi->bindings[i], NULL, &f);
        if (err) return err;
        k23vm_extern ext = {.kind = K23VM_EXTERN_FUNC, .of.func = f};
        err = k23vm_linker_define(linker, module, sizeof module - 1, imports[i].name, strlen(imports[i].name), &ext);
        if (err) return err;
    }
    return NULL;
}

bool k23vm_wasi_exit_code(const k23vm_wasi *wasi, int *code)
{
    if (!wasi || !wasi->exited) return false;
    if (code) *code = wasi->exit_code;
    return true;
}

bool k23vm_wasi_uses_openat2(const k23vm_wasi *wasi) { return wasi && wasi->use_openat2; }

void k23vm_wasi_delete(k23vm_wasi *wasi)
{
    if (!wasi) return;
    for (size_t i = 0; i < wasi->nfds; i++) wasi_fd_release(&wasi->fds[i]);
    free(wasi->fds);
    free_strings(wasi->argv, wasi->argc);
    free_strings(wasi->envp, wasi->envc);
    free(wasi->bindings);
    free(wasi);
}
