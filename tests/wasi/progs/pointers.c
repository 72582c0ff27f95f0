/* pointers.c - WASI test program: bad guest pointers and lengths. Every WASI call checks what it is
 * handed against the guest's memory: a pointer past the end, a range that straddles the end or
 * wraps around 4 GiB gives EFAULT, never a host crash, and nothing happens (path_open with
 * O_CREAT and an out-of-bounds result pointer creates no file; the harness checks). The calls go
 * to the imports directly, so that no libc wrapper touches the bad memory first. */
#include <stdint.h>

#include "check.h"

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
IMPORT(fd_write) int32_t raw_fd_write(int32_t fd, uint32_t iovs, uint32_t n, uint32_t nwritten);
IMPORT(fd_read) int32_t raw_fd_read(int32_t fd, uint32_t iovs, uint32_t n, uint32_t nread);
IMPORT(random_get) int32_t raw_random_get(uint32_t buf, uint32_t len);
IMPORT(clock_time_get) int32_t raw_clock_time_get(int32_t id, int64_t precision, uint32_t result);
IMPORT(args_sizes_get) int32_t raw_args_sizes_get(uint32_t argc, uint32_t size);
IMPORT(environ_get) int32_t raw_environ_get(uint32_t environ, uint32_t buf);
IMPORT(path_open) int32_t raw_path_open(int32_t fd, int32_t dirflags, uint32_t path, uint32_t path_len,
                                        int32_t oflags, int64_t base, int64_t inheriting, int32_t fdflags,
                                        uint32_t result);
IMPORT(path_create_directory) int32_t raw_path_create_directory(int32_t fd, uint32_t path, uint32_t len);
IMPORT(fd_prestat_dir_name) int32_t raw_fd_prestat_dir_name(int32_t fd, uint32_t buf, uint32_t len);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(uint32_t in, uint32_t out, uint32_t n, uint32_t nevents);
IMPORT(fd_readdir) int32_t raw_fd_readdir(int32_t fd, uint32_t buf, uint32_t len, int64_t cookie, uint32_t used);
IMPORT(path_readlink) int32_t raw_path_readlink(int32_t fd, uint32_t path, uint32_t len, uint32_t buf,
                                                uint32_t buflen, uint32_t used);

#define P(x) ((uint32_t)(uintptr_t)(x))
#define EFAULT_ __WASI_ERRNO_FAULT

int main(void)
{
    uint32_t end = (uint32_t)__builtin_wasm_memory_size(0) * 65536u; /* first byte past the memory */
    static uint32_t n, iov[2];
    static char buf[64];
    static __wasi_subscription_t sub;
    static __wasi_event_t ev;

    iov[0] = P(buf);
    iov[1] = 4;
    memcpy(buf, "abc\n", 4);
    CHECK_WASI(raw_fd_write(1, end, 1, P(&n)), EFAULT_, "fd_write, iovec array past the end");
    CHECK_WASI(raw_fd_write(1, end - 4, 1, P(&n)), EFAULT_, "fd_write, iovec array straddling the end");
    CHECK_WASI(raw_fd_write(1, P(iov), 1, end), EFAULT_, "fd_write, result pointer past the end");
    CHECK_WASI(raw_fd_write(1, P(iov), 0x20000000u, P(&n)), EFAULT_, "fd_write, 2^29 iovecs");
    iov[0] = end - 2;
    CHECK_WASI(raw_fd_write(1, P(iov), 1, P(&n)), EFAULT_, "fd_write, buffer straddling the end");
    iov[0] = P(buf);
    iov[1] = 0xfffffff0u;
    CHECK_WASI(raw_fd_write(1, P(iov), 1, P(&n)), EFAULT_, "fd_write, length wrapping around 4 GiB");
    iov[0] = 0xfffffff0u;
    iov[1] = 0x20;
    CHECK_WASI(raw_fd_read(0, P(iov), 1, P(&n)), EFAULT_, "fd_read into a buffer wrapping around");
    CHECK_WASI(raw_random_get(end - 8, 16), EFAULT_, "random_get straddling the end");
    CHECK_WASI(raw_random_get(0xffffff00u, 0x200), EFAULT_, "random_get wrapping around");
    CHECK_WASI(raw_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, end - 4), EFAULT_, "clock_time_get, result straddling");
    CHECK_WASI(raw_args_sizes_get(end, P(&n)), EFAULT_, "args_sizes_get, argc pointer past the end");
    CHECK_WASI(raw_environ_get(end + 100, end + 200), EFAULT_, "environ_get, pointers past the end");
    CHECK_WASI(raw_path_open(3, 0, end - 3, 10, 0, __WASI_RIGHTS_FD_READ, 0, 0, P(&n)), EFAULT_,
               "path_open, path straddling the end");
    CHECK_WASI(raw_path_open(3, 0, P("created.txt"), 0xffffffffu, __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, 0, 0,
                             P(&n)), EFAULT_,
               "path_open, path length 4 GiB - 1");
    CHECK_WASI(raw_path_open(3, 0, P("created.txt"), 11, __WASI_OFLAGS_CREAT,
                             __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, end),
               EFAULT_, "path_open O_CREAT, result pointer past the end");
    CHECK_WASI(raw_path_create_directory(3, end - 1, 2), EFAULT_, "path_create_directory, path straddling");
    CHECK_WASI(raw_fd_prestat_dir_name(3, end - 4, 8), EFAULT_, "fd_prestat_dir_name into a straddling buffer");
    CHECK_WASI(raw_poll_oneoff(end - 16, P(&ev), 1, P(&n)), EFAULT_, "poll_oneoff, subscriptions straddling");
    memset(&sub, 0, sizeof sub);
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    CHECK_WASI(raw_poll_oneoff(P(&sub), end - 8, 1, P(&n)), EFAULT_, "poll_oneoff, events straddling");
    CHECK_WASI(raw_poll_oneoff(end - 5 * 48, P(&ev), 10, P(&n)), EFAULT_, "poll_oneoff, 10 subscriptions, 5 in memory");
    CHECK_WASI(raw_fd_readdir(3, end - 10, 100, 0, P(&n)), EFAULT_, "fd_readdir into a straddling buffer");
    CHECK_WASI(raw_path_readlink(3, P("link"), 4, end - 2, 64, P(&n)), EFAULT_, "path_readlink into a straddling buffer");
    CHECK_WASI(raw_fd_read(0, P(iov), 1, 0xfffffffcu + 2), EFAULT_, "fd_read, result pointer wrapping");

    /* and the program carries on normally */
    CHECK_WASI(raw_random_get(P(buf), sizeof buf), 0, "random_get into a good buffer");
    fflush(stdout); /* the raw write below bypasses stdio's buffer */
    iov[0] = P("still alive\n");
    iov[1] = 12;
    CHECK_WASI(raw_fd_write(1, P(iov), 1, P(&n)), 0, "fd_write of a good buffer");
    CHECK(n == 12, "wrote 12 bytes");
    return check_done();
}
