/* guest/demo.c - the program `make demo` runs: plain C compiled by clang for freestanding wasm32
 * (examples/CMakeLists.txt), with no libc. Its one way out is the host function it imports,
 * env.print(ptr, len), which the embedding program (examples/demo.c) provides; the host calls its
 * export `run`. It draws the Mandelbrot set in ASCII (f64 arithmetic), counts primes with a sieve
 * (a 2 MB byte array in linear memory) and finds the longest Collatz chain (i64 arithmetic). */
#include <stddef.h>
#include <stdint.h>

__attribute__((import_module("env"), import_name("print"))) void print(const char *text, size_t len);

/* ---- output: a line buffer handed to env.print at each newline ---------------------------------- */

static char line[256];
static size_t line_len;

static void put_char(char c)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line) {
        print(line, line_len);
        line_len = 0;
    }
}

static void put_str(const char *s)
{
    while (*s) put_char(*s++);
}

/* v in decimal, right-aligned in width columns. */
static void put_uint(uint64_t v, int width)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = n; i < width; i++) put_char(' ');
    while (n) put_char(digits[--n]);
}

/* ---- the Mandelbrot set ------------------------------------------------------------------------- */

static void mandelbrot(int width, int height, int max_iter)
{
    /* The shade of a point outside the set darkens with the iterations it took to escape. */
    static const int steps[8] = {4, 6, 8, 11, 15, 22, 35, 60};
    static const char shades[9] = " .:-=+*#%"; /* escaped before steps[0], ..., after steps[7] */
    for (int row = 0; row < height; row++) {
        double ci = 1.2 - 2.4 * row / (height - 1);
        for (int col = 0; col < width; col++) {
            double cr = -2.2 + 2.9 * col / (width - 1);
            double zr = 0, zi = 0;
            int i = 0;
            while (i < max_iter && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                i++;
            }
            int shade = 0;
            while (shade < 8 && i >= steps[shade]) shade++;
            put_char(i == max_iter ? '@' : shades[shade]); /* '@': in the set */
        }
        put_char('\n');
    }
}

/* ---- primes ------------------------------------------------------------------------------------ */

#define SIEVE_LIMIT 2000000
static uint8_t composite[SIEVE_LIMIT]; /* zero-initialised, in linear memory */

static void primes(void)
{
    for (uint32_t i = 2; i * i < SIEVE_LIMIT; i++)
        if (!composite[i])
            for (uint32_t j = i * i; j < SIEVE_LIMIT; j += i) composite[j] = 1;
    put_str("primes below       how many\n");
    uint32_t count = 0, bound = 10, last[6] = {0};
    for (uint32_t n = 2; n < SIEVE_LIMIT; n++) {
        if (n == bound) {
            put_uint(bound, 12);
            put_uint(count, 15);
            put_char('\n');
            bound *= 10;
        }
        if (!composite[n]) {
            last[count % 6] = n;
            count++;
        }
    }
    put_uint(SIEVE_LIMIT, 12);
    put_uint(count, 15);
    put_str("\nthe largest of them:");
    for (uint32_t k = 0; k < 6; k++) {
        put_char(' ');
        put_uint(last[(count + k) % 6], 0);
    }
    put_char('\n');
}

/* ---- Collatz ----------------------------------------------------------------------------------- */

/* The start below limit with the longest chain n -> n/2 (even) or 3n+1 (odd) down to 1. */
static void collatz(uint32_t limit)
{
    uint32_t best = 1, best_steps = 0;
    uint64_t best_peak = 1;
    for (uint32_t start = 1; start < limit; start++) {
        uint64_t n = start, peak = start;
        uint32_t steps = 0;
        while (n != 1) {
            n = n & 1 ? 3 * n + 1 : n / 2;
            if (n > peak) peak = n;
            steps++;
        }
        if (steps > best_steps) {
            best = start;
            best_steps = steps;
            best_peak = peak;
        }
    }
    put_str("longest Collatz chain from a start below ");
    put_uint(limit, 0);
    put_str(": ");
    put_uint(best, 0);
    put_str(", ");
    put_uint(best_steps, 0);
    put_str(" steps, peak ");
    put_uint(best_peak, 0);
    put_char('\n');
}

__attribute__((export_name("run"))) void run(void)
{
    put_str("Hello from C compiled to wasm32, running in k23vm.\n\n");
    mandelbrot(72, 24, 500);
    put_char('\n');
    primes();
    put_char('\n');
    collatz(300000);
}
