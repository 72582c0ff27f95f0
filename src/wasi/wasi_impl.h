/* wasi_impl.h - internals of the WASI preview 1 library (libk23wasi.a): the context, the guest's
 * descriptor table, guest memory access and the preview 1 constants (numbers from the witx
 * definition of wasi_snapshot_preview1). Shared by wasi.c (context, args, clocks, poll, sockets,
 * the import table), fd.c (fd_* calls) and path.c (sandboxed resolution and path_* calls).
 */
#ifndef K23VM_WASI_IMPL_H
#define K23VM_WASI_IMPL_H

#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "k23vm.h"
#include "k23vm/wasi.h"

/* ---- errno (wasi_snapshot_preview1 `errno`) --------------------------------------------------- */
enum {
    W_ESUCCESS = 0, W_E2BIG = 1, W_EACCES = 2, W_EADDRINUSE = 3, W_EADDRNOTAVAIL = 4,
    W_EAFNOSUPPORT = 5, W_EAGAIN = 6, W_EALREADY = 7, W_EBADF = 8, W_EBADMSG = 9, W_EBUSY = 10,
    W_ECANCELED = 11, W_ECHILD = 12, W_ECONNABORTED = 13, W_ECONNREFUSED = 14, W_ECONNRESET = 15,
    W_EDEADLK = 16, W_EDESTADDRREQ = 17, W_EDOM = 18, W_EDQUOT = 19, W_EEXIST = 20, W_EFAULT = 21,
    W_EFBIG = 22, W_EHOSTUNREACH = 23, W_EIDRM = 24, W_EILSEQ = 25, W_EINPROGRESS = 26,
    W_EINTR = 27, W_EINVAL = 28, W_EIO = 29, W_EISCONN = 30, W_EISDIR = 31, W_ELOOP = 32,
    W_EMFILE = 33, W_EMLINK = 34, W_EMSGSIZE = 35, W_EMULTIHOP = 36, W_ENAMETOOLONG = 37,
    W_ENETDOWN = 38, W_ENETRESET = 39, W_ENETUNREACH = 40, W_ENFILE = 41, W_ENOBUFS = 42,
    W_ENODEV = 43, W_ENOENT = 44, W_ENOEXEC = 45, W_ENOLCK = 46, W_ENOLINK = 47, W_ENOMEM = 48,
    W_ENOMSG = 49, W_ENOPROTOOPT = 50, W_ENOSPC = 51, W_ENOSYS = 52, W_ENOTCONN = 53,
    W_ENOTDIR = 54, W_ENOTEMPTY = 55, W_ENOTRECOVERABLE = 56, W_ENOTSOCK = 57, W_ENOTSUP = 58,
    W_ENOTTY = 59, W_ENXIO = 60, W_EOVERFLOW = 61, W_EOWNERDEAD = 62, W_EPERM = 63, W_EPIPE = 64,
    W_EPROTO = 65, W_EPROTONOSUPPORT = 66, W_EPROTOTYPE = 67, W_ERANGE = 68, W_EROFS = 69,
    W_ESPIPE = 70, W_ESRCH = 71, W_ESTALE = 72, W_ETIMEDOUT = 73, W_ETXTBSY = 74, W_EXDEV = 75,
    W_ENOTCAPABLE = 76,
};

/* ---- rights ------------------------------------------------------------------------------------ */
#define R_FD_DATASYNC (1ull << 0)
#define R_FD_READ (1ull << 1)
#define R_FD_SEEK (1ull << 2)
#define R_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define R_FD_SYNC (1ull << 4)
#define R_FD_TELL (1ull << 5)
#define R_FD_WRITE (1ull << 6)
#define R_FD_ADVISE (1ull << 7)
#define R_FD_ALLOCATE (1ull << 8)
#define R_PATH_CREATE_DIRECTORY (1ull << 9)
#define R_PATH_CREATE_FILE (1ull << 10)
#define R_PATH_LINK_SOURCE (1ull << 11)
#define R_PATH_LINK_TARGET (1ull << 12)
#define R_PATH_OPEN (1ull << 13)
#define R_FD_READDIR (1ull << 14)
#define R_PATH_READLINK (1ull << 15)
#define R_PATH_RENAME_SOURCE (1ull << 16)
#define R_PATH_RENAME_TARGET (1ull << 17)
#define R_PATH_FILESTAT_GET (1ull << 18)
#define R_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define R_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define R_FD_FILESTAT_GET (1ull << 21)
#define R_FD_FILESTAT_SET_SIZE (1ull << 22)
#define R_FD_FILESTAT_SET_TIMES (1ull << 23)
#define R_PATH_SYMLINK (1ull << 24)
#define R_PATH_REMOVE_DIRECTORY (1ull << 25)
#define R_PATH_UNLINK_FILE (1ull << 26)
#define R_POLL_FD_READWRITE (1ull << 27)
#define R_SOCK_SHUTDOWN (1ull << 28)
#define R_SOCK_ACCEPT (1ull << 29)
#define R_ALL ((1ull << 30) - 1)

/* What each kind of descriptor can do at most. */
#define R_FILE_BASE                                                                                  \
    (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL |         \
     R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE |         \
     R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
/* A terminal or pipe: no seek or tell (wasi-libc's isatty() looks for exactly that). */
#define R_STREAM_BASE (R_FILE_BASE & ~(R_FD_SEEK | R_FD_TELL | R_FD_ALLOCATE | R_FD_ADVISE))
/* fd_read is there so that reading a directory fails as on POSIX, EISDIR. */
#define R_DIR_BASE                                                                                   \
    (R_FD_READ | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC | R_FD_ADVISE | R_PATH_CREATE_DIRECTORY |     \
     R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN | R_FD_READDIR |     \
     R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET | R_PATH_FILESTAT_GET |           \
     R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES | R_FD_FILESTAT_GET |                      \
     R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK | R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE |        \
     R_POLL_FD_READWRITE)
#define R_DIR_INHERITING (R_DIR_BASE | R_FILE_BASE)
#define R_SOCK_BASE                                                                                  \
    (R_FD_READ | R_FD_WRITE | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE |     \
     R_SOCK_SHUTDOWN | R_SOCK_ACCEPT)

/* ---- other enumerations and flags --------------------------------------------------------------- */
enum {
    FT_UNKNOWN = 0, FT_BLOCK_DEVICE, FT_CHARACTER_DEVICE, FT_DIRECTORY, FT_REGULAR_FILE,
    FT_SOCKET_DGRAM, FT_SOCKET_STREAM, FT_SYMBOLIC_LINK,
};
enum { FDFL_APPEND = 1, FDFL_DSYNC = 2, FDFL_NONBLOCK = 4, FDFL_RSYNC = 8, FDFL_SYNC = 16 };
enum { OFL_CREAT = 1, OFL_DIRECTORY = 2, OFL_EXCL = 4, OFL_TRUNC = 8 };
enum { LOOKUP_SYMLINK_FOLLOW = 1 };
enum { FST_ATIM = 1, FST_ATIM_NOW = 2, FST_MTIM = 4, FST_MTIM_NOW = 8 };

/* ---- the context ------------------------------------------------------------------------------- */

typedef struct wasi_dirent {
    uint64_t ino;
    uint8_t type;
    uint32_t namlen;
    char *name;
} wasi_dirent;

typedef struct wasi_fd {
    int host;            /* -1: slot free */
    uint8_t type;        /* FT_* */
    uint64_t base, inh;  /* rights */
    char *preopen;       /* guest name of a preopened directory, else NULL */
    /* fd_readdir: the directory's entries, read when a listing starts at cookie 0. */
    wasi_dirent *ents;
    size_t nents;
} wasi_fd;

struct k23vm_wasi {
    char **argv, **envp;
    size_t argc, envc;
    wasi_fd *fds;
    size_t nfds; /* slots in fds */
    bool use_openat2;
    bool exited;
    int exit_code;
    bool defined;
    struct wasi_binding *bindings;
};

/* One host call in progress: the context and the calling instance's memory. */
typedef struct wasi_call {
    k23vm_wasi *w;
    k23vm_caller *caller;
    uint8_t *mem;
    size_t memsize;
} wasi_call;

/* ---- guest memory ---------------------------------------------------------------------------- */

static inline bool wasi_range(const wasi_call *c, uint32_t ptr, uint64_t len)
{
    return (uint64_t)ptr + len <= c->memsize;
}
static inline void wasi_put_u8(wasi_call *c, uint32_t p, uint8_t v) { c->mem[p] = v; }
static inline void wasi_put_u16(wasi_call *c, uint32_t p, uint16_t v) { memcpy(c->mem + p, &v, 2); }
static inline void wasi_put_u32(wasi_call *c, uint32_t p, uint32_t v) { memcpy(c->mem + p, &v, 4); }
static inline void wasi_put_u64(wasi_call *c, uint32_t p, uint64_t v) { memcpy(c->mem + p, &v, 8); }
static inline uint32_t wasi_get_u32(const wasi_call *c, uint32_t p)
{
    uint32_t v;
    memcpy(&v, c->mem + p, 4);
    return v;
}
static inline uint64_t wasi_get_u64(const wasi_call *c, uint32_t p)
{
    uint64_t v;
    memcpy(&v, c->mem + p, 8);
    return v;
}
static inline uint16_t wasi_get_u16(const wasi_call *c, uint32_t p)
{
    uint16_t v;
    memcpy(&v, c->mem + p, 2);
    return v;
}

/* The byte range [ptr, ptr+len) of guest memory, or return EFAULT from the calling function. */
#define WASI_CHECK(c, ptr, len)                                                                      \
    do {                                                                                             \
        if (!wasi_range((c), (ptr), (len))) return W_EFAULT;                                         \
    } while (0)

/* ---- shared helpers (wasi.c) ------------------------------------------------------------------- */

/* Host errno -> preview 1 errno. */
uint16_t wasi_errno(int host_errno);
/* The descriptor fd when open and holding every right in `need`: *out and ESUCCESS; else EBADF or
 * ENOTCAPABLE. */
uint16_t wasi_fd_get(k23vm_wasi *w, uint32_t fd, uint64_t need, wasi_fd **out);
/* A free guest descriptor for the host one (which it then owns): the lowest free number. */
uint16_t wasi_fd_add(k23vm_wasi *w, int host, uint8_t type, uint64_t base, uint64_t inh, uint32_t *out);
/* Closes the descriptor's host side and frees its cached listing; the slot becomes free. */
void wasi_fd_release(wasi_fd *f);
void wasi_fd_clear_listing(wasi_fd *f);
/* Reads the guest's iovec array (8 bytes each: buf, len) at iovs into host iovecs pointing into
 * guest memory, every one range-checked. At most IOV_MAX of them (a short transfer, as POSIX
 * allows). *n is the number used. */
uint16_t wasi_get_iovs(wasi_call *c, uint32_t iovs, uint32_t count, struct iovec *out, size_t *n);
/* Filetype of a stat result. */
uint8_t wasi_filetype(mode_t mode);
/* A filestat (64 bytes) from a host stat, written at guest address p (range already checked). */
void wasi_put_filestat(wasi_call *c, uint32_t p, const struct stat *st);

/* ---- the calls -------------------------------------------------------------------------------- */
/* Every call takes the call and its wasm arguments; it returns the errno (proc_exit aside). */
typedef uint16_t (*wasi_fn)(wasi_call *c, const k23vm_val *a);

#define WASI_FD_CALLS(X)                                                                             \
    X(fd_advise, "iIIi>i")                                                                           \
    X(fd_allocate, "iII>i")                                                                          \
    X(fd_close, "i>i")                                                                               \
    X(fd_datasync, "i>i")                                                                            \
    X(fd_fdstat_get, "ii>i")                                                                         \
    X(fd_fdstat_set_flags, "ii>i")                                                                   \
    X(fd_fdstat_set_rights, "iII>i")                                                                 \
    X(fd_filestat_get, "ii>i")                                                                       \
    X(fd_filestat_set_size, "iI>i")                                                                  \
    X(fd_filestat_set_times, "iIIi>i")                                                               \
    X(fd_pread, "iiiIi>i")                                                                           \
    X(fd_prestat_get, "ii>i")                                                                        \
    X(fd_prestat_dir_name, "iii>i")                                                                  \
    X(fd_pwrite, "iiiIi>i")                                                                          \
    X(fd_read, "iiii>i")                                                                             \
    X(fd_readdir, "iiiIi>i")                                                                         \
    X(fd_renumber, "ii>i")                                                                           \
    X(fd_seek, "iIii>i")                                                                             \
    X(fd_sync, "i>i")                                                                                \
    X(fd_tell, "ii>i")                                                                               \
    X(fd_write, "iiii>i")

#define WASI_PATH_CALLS(X)                                                                           \
    X(path_create_directory, "iii>i")                                                                \
    X(path_filestat_get, "iiiii>i")                                                                  \
    X(path_filestat_set_times, "iiiiIIi>i")                                                          \
    X(path_link, "iiiiiii>i")                                                                        \
    X(path_open, "iiiiiIIii>i")                                                                      \
    X(path_readlink, "iiiiii>i")                                                                     \
    X(path_remove_directory, "iii>i")                                                                \
    X(path_rename, "iiiiii>i")                                                                       \
    X(path_symlink, "iiiii>i")                                                                       \
    X(path_unlink_file, "iii>i")

#define WASI_DECLARE(name, sig) uint16_t wasi_##name(wasi_call *c, const k23vm_val *a);
WASI_FD_CALLS(WASI_DECLARE)
WASI_PATH_CALLS(WASI_DECLARE)

/* path.c: whether this kernel has openat2 (probed once). */
bool wasi_have_openat2(void);

#endif
