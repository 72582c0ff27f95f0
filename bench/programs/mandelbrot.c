/* mandelbrot.c - benchmark kernel: escape-time iteration of z = z^2 + c over a 1024 x 768 grid
 * of the complex plane (up to 500 iterations a point); tight f64 multiply-add loops with a
 * data-dependent exit. The checksum is the iteration count of every row. */
#include "bench.h"

static volatile uint32_t mb_max_iter = 500;

#define W 1024
#define H 768

uint64_t bench_run(void)
{
    uint32_t max_iter = mb_max_iter;
    uint64_t ck = 0;
    for (int py = 0; py < H; py++) {
        double ci = -1.2 + 2.4 * py / H;
        uint32_t row = 0;
        for (int px = 0; px < W; px++) {
            double cr = -2.1 + 3.0 * px / W;
            double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0;
            uint32_t it = 0;
            while (it < max_iter && zr2 + zi2 <= 4.0) {
                zi = 2.0 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                zr2 = zr * zr;
                zi2 = zi * zi;
                it++;
            }
            row += it;
        }
        ck = bench_mix(ck, row);
    }
    return ck;
}
