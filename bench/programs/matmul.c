/* matmul.c - benchmark kernel: dense f64 matrix multiply, C = A * B for 200 x 200 matrices in
 * the i-k-j loop order (unit-stride inner loop), repeated with A updated from C between rounds so
 * that every round depends on the previous one. */
#include "bench.h"

static volatile uint32_t mm_rounds = 120;

#define N 200

static double A[N][N], B[N][N], C[N][N];

static void multiply(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            C[i][j] = 0.0;
        for (int k = 0; k < N; k++) {
            double a = A[i][k];
            for (int j = 0; j < N; j++)
                C[i][j] += a * B[k][j];
        }
    }
}

uint64_t bench_run(void)
{
    uint32_t seed = 0x2545F491;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            /* Values in [-1, 1) with 16 significant bits: products and sums stay exact enough
             * that nothing overflows or degenerates over the rounds. */
            A[i][j] = (double)(int32_t)(bench_rand(&seed) >> 16) / 32768.0 - 1.0;
            B[i][j] = (double)(int32_t)(bench_rand(&seed) >> 16) / 32768.0 - 1.0;
        }
    }
    uint64_t ck = 0;
    uint32_t rounds = mm_rounds;
    for (uint32_t r = 0; r < rounds; r++) {
        multiply();
        /* Rescale C into A: keeps magnitudes bounded (|C| <= N * max|A| * max|B|). */
        double trace = 0.0;
        for (int i = 0; i < N; i++) {
            trace += C[i][i];
            for (int j = 0; j < N; j++)
                A[i][j] = C[i][j] * (1.0 / N);
        }
        ck = bench_mix(ck, bench_f64_bits(trace));
        ck = bench_mix(ck, bench_f64_bits(C[r % N][(r * 7) % N]));
    }
    return ck;
}
