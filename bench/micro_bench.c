/* micro_bench.c - micro-benchmarks of the VM's fixed costs (issue 5): interpreter translation
 * MB/s, instantiation time (plain and pooling allocator), host->wasm and wasm->host call overhead.
 * Prints a markdown section that `make bench` appends to bench/results/latest.md.
 * (Being written; until then it says so.) */
#include <stdio.h>

int main(void)
{
    puts("(micro-benchmarks not written yet)");
    return 0;
}
