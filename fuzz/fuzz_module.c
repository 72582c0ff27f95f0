/* fuzz_module.c - libFuzzer target over decoding and validation: every input goes through
 * k23vm_module_new (and, when it is accepted, the import/export queries), and everything is freed.
 * Built with clang -fsanitize=fuzzer,address,undefined in build-fuzz/ (`make fuzz`); crashes land
 * in fuzz/crashes/ and, once fixed, their inputs move to tests/regress/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "k23vm.h"

static k23vm_engine *engine;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    k23vm_error *err = k23vm_engine_new(NULL, &engine);
    if (err) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    k23vm_module *m = NULL;
    k23vm_error *err = k23vm_module_new(engine, data, size, &m);
    if (err) {
        /* The error must be usable: touch its message and offset. */
        const char *msg = k23vm_error_message(err);
        size_t off = k23vm_error_offset(err);
        if (!msg || (off != SIZE_MAX && off > size) || m) abort();
        k23vm_error_delete(err);
        return 0;
    }
    for (size_t i = 0, n = k23vm_module_import_count(m); i < n; i++) {
        k23vm_import im;
        if (!k23vm_module_import(m, i, &im)) abort();
    }
    for (size_t i = 0, n = k23vm_module_export_count(m); i < n; i++) {
        k23vm_export ex;
        if (!k23vm_module_export(m, i, &ex)) abort();
    }
    k23vm_module_delete(m);
    return 0;
}
