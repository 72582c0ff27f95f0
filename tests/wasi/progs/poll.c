/* poll.c - WASI test program: poll_oneoff on relative and absolute clock timeouts (it waits at
 * least that long) and on file descriptor readiness (a regular file and stdout are ready at once,
 * long before a 5 s timeout); sched_yield. The harness gives it a preopened /sandbox. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define MS 1000000ull

static uint64_t mono(void)
{
    __wasi_timestamp_t t = 0;
    return __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) == 0 ? t : 0;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, uint64_t timeout, int abstime)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = abstime ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, int fd, int write)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = write ? __WASI_EVENTTYPE_FD_WRITE : __WASI_EVENTTYPE_FD_READ;
    s.u.u.fd_read.file_descriptor = (__wasi_fd_t)fd;
    return s;
}

int main(void)
{
    __wasi_subscription_t sub[3];
    __wasi_event_t ev[3];
    __wasi_size_t n = 0;

    /* relative timeout */
    sub[0] = clock_sub(42, 30 * MS, 0);
    uint64_t t0 = mono();
    CHECK(__wasi_poll_oneoff(sub, ev, 1, &n) == 0, "poll_oneoff on a 30 ms relative clock");
    uint64_t t1 = mono();
    CHECK(n == 1 && ev[0].userdata == 42 && ev[0].type == __WASI_EVENTTYPE_CLOCK && ev[0].error == 0,
          "one clock event, userdata 42, no error");
    CHECK(t1 - t0 >= 30 * MS, "waited at least 30 ms");

    /* absolute timeout */
    t0 = mono();
    sub[0] = clock_sub(43, t0 + 40 * MS, 1);
    n = 0;
    CHECK(__wasi_poll_oneoff(sub, ev, 1, &n) == 0 && n == 1 && ev[0].userdata == 43,
          "poll_oneoff on an absolute clock 40 ms ahead");
    CHECK(mono() - t0 >= 40 * MS, "waited at least 40 ms");

    /* a file with data is ready for reading before a 5 s timeout */
    CHECK(chdir("/sandbox") == 0, "chdir /sandbox");
    int fd = open("data.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "0123456789", 10) == 10 && lseek(fd, 0, SEEK_SET) == 0, "data.txt with 10 bytes");
    sub[0] = clock_sub(1, 5000 * MS, 0);
    sub[1] = fd_sub(2, fd, 0);
    t0 = mono();
    n = 0;
    CHECK(__wasi_poll_oneoff(sub, ev, 2, &n) == 0, "poll_oneoff on the file (read) and a 5 s clock");
    t1 = mono();
    int found = 0;
    for (__wasi_size_t i = 0; i < n; i++)
        if (ev[i].userdata == 2 && ev[i].type == __WASI_EVENTTYPE_FD_READ && ev[i].error == 0)
            found = 1;
    CHECK(found, "the file's read event came, without error");
    CHECK(t1 - t0 < 4000 * MS, "before the timeout");

    /* stdout is ready for writing */
    sub[1] = fd_sub(3, 1, 1);
    n = 0;
    t0 = mono();
    CHECK(__wasi_poll_oneoff(sub, ev, 2, &n) == 0, "poll_oneoff on stdout (write) and a 5 s clock");
    found = 0;
    for (__wasi_size_t i = 0; i < n; i++)
        if (ev[i].userdata == 3 && ev[i].type == __WASI_EVENTTYPE_FD_WRITE && ev[i].error == 0)
            found = 1;
    CHECK(found && mono() - t0 < 4000 * MS, "stdout's write event came before the timeout");

    /* libc poll() over the same */
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = 1, .events = POLLOUT}};
    CHECK(poll(p, 2, 5000) == 2 && (p[0].revents & POLLIN) && (p[1].revents & POLLOUT),
          "poll(): file readable, stdout writable");
    close(fd);

    CHECK_WASI(__wasi_poll_oneoff(sub, ev, 0, &n), __WASI_ERRNO_INVAL, "poll_oneoff with no subscriptions");
    CHECK(sched_yield() == 0, "sched_yield");
    return check_done();
}
