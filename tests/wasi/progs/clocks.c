/* clocks.c - WASI test program: clock_time_get and clock_res_get for the realtime, monotonic,
 * process and thread CPU-time clocks; nanosleep (poll_oneoff on a relative clock) sleeps at least
 * as long as asked. */
#include <time.h>

#include "check.h"

static uint64_t now(__wasi_clockid_t id)
{
    __wasi_timestamp_t t = 0;
    return __wasi_clock_time_get(id, 1, &t) == 0 ? t : 0;
}

int main(void)
{
    __wasi_timestamp_t res;
    /* realtime: after 2020-01-01 and before 2100-01-01 */
    uint64_t rt = now(__WASI_CLOCKID_REALTIME);
    CHECK(rt > 1577836800ull * 1000000000ull && rt < 4102444800ull * 1000000000ull, "realtime is plausible");
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= (time_t)(rt / 1000000000ull) &&
              ts.tv_sec < (time_t)(rt / 1000000000ull) + 60,
          "clock_gettime(CLOCK_REALTIME) agrees");
    time_t t = time(NULL);
    CHECK(t >= (time_t)(rt / 1000000000ull), "time() agrees");

    /* monotonic: never goes back, advances across a sleep */
    uint64_t m0 = now(__WASI_CLOCKID_MONOTONIC), prev = m0;
    int ok = m0 != 0;
    for (int i = 0; i < 1000 && ok; i++) {
        uint64_t m = now(__WASI_CLOCKID_MONOTONIC);
        ok = m >= prev;
        prev = m;
    }
    CHECK(ok, "monotonic never goes back over 1000 reads");
    struct timespec d = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    CHECK(nanosleep(&d, NULL) == 0, "nanosleep 20 ms");
    uint64_t m1 = now(__WASI_CLOCKID_MONOTONIC);
    CHECK(m1 - m0 >= 20 * 1000 * 1000ull, "monotonic advanced at least 20 ms across it");
    CHECK(m1 - m0 < 10 * 1000 * 1000 * 1000ull, "and less than 10 s");

    /* resolutions: positive, at most 1 s */
    static const struct {
        __wasi_clockid_t id;
        const char *name;
    } clocks[] = {{__WASI_CLOCKID_REALTIME, "realtime"},
                  {__WASI_CLOCKID_MONOTONIC, "monotonic"},
                  {__WASI_CLOCKID_PROCESS_CPUTIME_ID, "process cputime"},
                  {__WASI_CLOCKID_THREAD_CPUTIME_ID, "thread cputime"}};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        res = 0;
        CHECK(__wasi_clock_res_get(clocks[i].id, &res) == 0 && res > 0 && res <= 1000000000ull,
              "%s resolution in (0, 1 s]", clocks[i].name);
    }
    /* CPU time: grows with work */
    uint64_t c0 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
    volatile uint64_t x = 1;
    for (long i = 0; i < 20000000; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t c1 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
    CHECK(c1 > c0, "process cputime advances with work");
    CHECK_WASI(__wasi_clock_time_get(99, 1, &res), __WASI_ERRNO_INVAL, "clock_time_get(clock 99)");
    CHECK_WASI(__wasi_clock_res_get(99, &res), __WASI_ERRNO_INVAL, "clock_res_get(clock 99)");
    return check_done();
}
