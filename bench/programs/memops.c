/* memops.c - benchmark kernel: bulk memory traffic. Blocks of generated offsets and lengths
 * (16 bytes to 16 KiB) are copied between two 1 MiB buffers, moved within one (overlapping) and
 * filled; built with -mbulk-memory, clang turns these into memory.copy and memory.fill. A sample of
 * the bytes goes into the checksum after every batch. */
#include "bench.h"

static volatile uint32_t mo_batches = 90000;

#define SIZE (1u << 20)
#define MAXLEN (16u * 1024)

static uint8_t src[SIZE], dst[SIZE];

uint64_t bench_run(void)
{
    uint32_t seed = 0x51ED270B;
    for (uint32_t i = 0; i < SIZE; i += 4) {
        uint32_t v = bench_rand(&seed);
        __builtin_memcpy(&src[i], &v, 4);
    }
    __builtin_memset(dst, 0, SIZE);
    uint64_t ck = 0;
    uint32_t batches = mo_batches;
    for (uint32_t b = 0; b < batches; b++) {
        for (int k = 0; k < 32; k++) {
            uint32_t r = bench_rand(&seed);
            /* Lengths spread over 16 B .. 16 KiB on a log scale. */
            uint32_t len = (16u << (r % 11)) + (r >> 20) % 16;
            if (len > MAXLEN)
                len = MAXLEN;
            uint32_t from = bench_rand(&seed) % (SIZE - len);
            uint32_t to = bench_rand(&seed) % (SIZE - len);
            switch (r >> 28 & 3) {
            case 0:
            case 1:
                __builtin_memcpy(dst + to, src + from, len);
                break;
            case 2:
                __builtin_memmove(dst + to, dst + from, len);
                break;
            default:
                __builtin_memset(dst + to, (int)(r >> 4 & 0xFF), len);
                break;
            }
        }
        /* Feed a little of dst back into src so the data keeps changing. */
        uint32_t at = bench_rand(&seed) % (SIZE - 4096);
        __builtin_memcpy(src + at, dst + (at ^ 0x5A5A0) % (SIZE - 4096), 4096);
        uint32_t probe = bench_rand(&seed) % (SIZE - 8);
        uint64_t v;
        __builtin_memcpy(&v, dst + probe, 8);
        ck = bench_mix(ck, v);
    }
    for (uint32_t i = 0; i < SIZE; i += 4093)
        ck = bench_mix(ck, dst[i]);
    return ck;
}
