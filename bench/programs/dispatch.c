/* dispatch.c - benchmark kernel: indirect calls. A stream of generated opcodes selects one of 16
 * small handlers through a table of function pointers (call_indirect in wasm), and a set of
 * "objects" each carrying its own pointer pair is updated through them, as a vtable would be. */
#include "bench.h"

static volatile uint32_t dp_rounds = 7500;

typedef uint32_t (*handler)(uint32_t acc, uint32_t x);

static uint32_t h_add(uint32_t a, uint32_t x) { return a + x; }
static uint32_t h_sub(uint32_t a, uint32_t x) { return a - x; }
static uint32_t h_xor(uint32_t a, uint32_t x) { return a ^ x; }
static uint32_t h_rotl(uint32_t a, uint32_t x) { return (a << (x & 31)) | (a >> ((32 - (x & 31)) & 31)); }
static uint32_t h_mul(uint32_t a, uint32_t x) { return a * (x | 1); }
static uint32_t h_addmul(uint32_t a, uint32_t x) { return a * 33 + x; }
static uint32_t h_or_shift(uint32_t a, uint32_t x) { return a ^ (x << 7) ^ (a >> 3); }
static uint32_t h_not(uint32_t a, uint32_t x) { return ~a + (x & 0xFF); }
static uint32_t h_min(uint32_t a, uint32_t x) { return a < x ? a + 1 : x ^ a; }
static uint32_t h_max(uint32_t a, uint32_t x) { return a > x ? a - x : x - a; }
static uint32_t h_swap(uint32_t a, uint32_t x) { return (a >> 16 | a << 16) + x; }
static uint32_t h_mix(uint32_t a, uint32_t x) { a ^= x; a *= 0x9E3779B1u; return a ^ (a >> 15); }
static uint32_t h_popc(uint32_t a, uint32_t x)
{
    uint32_t v = a ^ x, n = 0;
    while (v) {
        v &= v - 1;
        n++;
    }
    return a + n;
}
static uint32_t h_div(uint32_t a, uint32_t x) { return a / ((x & 0xFF) + 1) + a; }
static uint32_t h_sel(uint32_t a, uint32_t x) { return (x & 1) ? a + 0x1234 : a - 0x4321; }
static uint32_t h_id(uint32_t a, uint32_t x) { return a + (x >> 28); }

static handler const table[16] = {
    h_add, h_sub, h_xor, h_rotl, h_mul, h_addmul, h_or_shift, h_not,
    h_min, h_max, h_swap, h_mix,  h_popc, h_div, h_sel, h_id,
};

#define STREAM 4096
#define OBJECTS 64

typedef struct object {
    handler update, combine;
    uint32_t state;
} object;

static uint8_t stream[STREAM];
static object objects[OBJECTS];

uint64_t bench_run(void)
{
    uint32_t seed = 0xABCDEF01;
    for (int i = 0; i < STREAM; i++)
        stream[i] = (uint8_t)(bench_rand(&seed) >> 7);
    for (int i = 0; i < OBJECTS; i++) {
        objects[i].update = table[bench_rand(&seed) & 15];
        objects[i].combine = table[bench_rand(&seed) & 15];
        objects[i].state = bench_rand(&seed);
    }
    uint64_t ck = 0;
    uint32_t acc = 1, rounds = dp_rounds;
    for (uint32_t r = 0; r < rounds; r++) {
        /* Opcode stream through the table. */
        for (int i = 0; i < STREAM; i++)
            acc = table[stream[i] & 15](acc, (uint32_t)i + r);
        /* Objects through their own pointers. */
        for (int i = 0; i < OBJECTS; i++) {
            object *o = &objects[i];
            o->state = o->update(o->state, acc);
            acc = o->combine(acc, o->state);
        }
        ck = bench_mix(ck, acc);
    }
    for (int i = 0; i < OBJECTS; i++)
        ck = bench_mix(ck, objects[i].state);
    return ck;
}
