/* entry_wasm.c - freestanding wasm32 entry of a benchmark program: exports `run` (() -> i64),
 * which returns the kernel's checksum. Linked with --no-entry and no libc; the embedder times the
 * call. */
#include "bench.h"

__attribute__((export_name("run"))) uint64_t run(void)
{
    return bench_run();
}
