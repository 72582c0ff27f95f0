/* random.c - WASI test program: random_get gives bytes that are not constant: two 32-byte draws
 * differ, neither is all zeros, and 64 KiB take more than 200 distinct byte values. */
#include <unistd.h>

#include "check.h"

int main(void)
{
    unsigned char a[32], b[32], zero[32] = {0};
    CHECK(getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0, "getentropy twice");
    CHECK(memcmp(a, zero, sizeof a) != 0 && memcmp(b, zero, sizeof b) != 0, "neither draw is all zeros");
    CHECK(memcmp(a, b, sizeof a) != 0, "the two draws differ");
    static unsigned char big[65536];
    CHECK(__wasi_random_get(big, sizeof big) == 0, "random_get 64 KiB");
    int seen[256] = {0}, distinct = 0;
    for (size_t i = 0; i < sizeof big; i++)
        distinct += !seen[big[i]]++;
    CHECK(distinct > 200, "more than 200 distinct byte values");
    CHECK(__wasi_random_get(big, 0) == 0, "random_get of 0 bytes");
    return check_done();
}
