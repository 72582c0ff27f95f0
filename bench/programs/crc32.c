/* crc32.c - benchmark kernel: CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven
 * one byte at a time, over a 256 KiB buffer many times: dependent table loads, shifts, xors. The
 * table is computed first (bit by bit); "123456789" is checked against 0xCBF43926. */
#include "bench.h"

static volatile uint32_t crc_passes = 450;

#define BUF_SIZE (256 * 1024)

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

uint64_t bench_run(void)
{
    make_table();
    static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    uint64_t ck = bench_mix(0, crc32(0, check, 9) == 0xCBF43926u);

    uint32_t seed = 0x9e3779b9;
    for (uint32_t i = 0; i < BUF_SIZE; i++)
        buf[i] = (uint8_t)bench_rand(&seed);
    uint32_t passes = crc_passes, crc = 0;
    for (uint32_t pass = 0; pass < passes; pass++) {
        crc = crc32(crc, buf, BUF_SIZE);
        buf[pass % BUF_SIZE] = (uint8_t)crc;
        ck = bench_mix(ck, crc);
    }
    return ck;
}
