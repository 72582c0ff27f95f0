/* qsort.c - benchmark kernel: sorts 500,000 generated ints with a quicksort written here
 * (median-of-three pivot, insertion sort below 16 elements, recursion on the smaller side only),
 * several rounds with different data; compares and swaps with unpredictable branches. Each round
 * checks that the result is sorted. */
#include "bench.h"

static volatile uint32_t qs_rounds = 10;

#define COUNT 500000

static int32_t data[COUNT];

static void insertion_sort(int32_t *a, int32_t n)
{
    for (int32_t i = 1; i < n; i++) {
        int32_t v = a[i], j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static inline void swap(int32_t *a, int32_t *b)
{
    int32_t t = *a;
    *a = *b;
    *b = t;
}

static void quicksort(int32_t *a, int32_t n)
{
    while (n > 16) {
        int32_t mid = n / 2, last = n - 1;
        /* Median of three into a[mid]. */
        if (a[mid] < a[0])
            swap(&a[mid], &a[0]);
        if (a[last] < a[0])
            swap(&a[last], &a[0]);
        if (a[last] < a[mid])
            swap(&a[last], &a[mid]);
        int32_t pivot = a[mid];
        int32_t i = 0, j = last;
        /* Hoare partition. */
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
            i++;
            j--;
        }
        int32_t left = j + 1; /* a[0 .. left) <= pivot <= a[left .. n) */
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

uint64_t bench_run(void)
{
    uint64_t ck = 0;
    uint32_t rounds = qs_rounds, seed = 0xDEADBEEF;
    for (uint32_t r = 0; r < rounds; r++) {
        /* Every other round draws from a small range: many equal keys. */
        uint32_t mask = (r & 1) ? 0x3FFu : 0xFFFFFFFFu;
        for (int32_t i = 0; i < COUNT; i++)
            data[i] = (int32_t)(bench_rand(&seed) & mask);
        quicksort(data, COUNT);
        uint32_t sorted = 1;
        for (int32_t i = 1; i < COUNT; i++)
            sorted &= data[i - 1] <= data[i];
        ck = bench_mix(ck, sorted);
        for (int32_t i = 0; i < COUNT; i += 997)
            ck = bench_mix(ck, (uint32_t)data[i]);
    }
    return ck;
}
