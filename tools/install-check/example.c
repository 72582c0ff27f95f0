/* example.c - a program built outside the source tree against an installed k23vm (see
 * tools/install-check/run.sh): it calls an export of a small module and makes a WASI context and
 * its imports, so that both libraries and every installed header are used. Prints two lines. */
#include <stdio.h>
#include <string.h>

#include <k23vm.h>
#include <k23vm/wasi.h>

/* (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)) */
static const uint8_t add_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 'a',  'd',  'd',  0x00, 0x00, 0x0a, 0x09, 0x01, 0x07,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
};

static int fail(const char *what, k23vm_error *err)
{
    fprintf(stderr, "example: %s: %s\n", what, err ? k23vm_error_message(err) : "failed");
    k23vm_error_delete(err);
    return 1;
}

int main(void)
{
    k23vm_engine *engine;
    k23vm_module *module;
    k23vm_store *store;
    k23vm_instance *instance;
    k23vm_linker *linker;
    k23vm_wasi *wasi;
    k23vm_trap *trap = NULL;
    k23vm_error *err;
    if ((err = k23vm_engine_new(NULL, &engine))) return fail("engine", err);
    if ((err = k23vm_module_new(engine, add_wasm, sizeof add_wasm, &module))) return fail("module", err);
    if ((err = k23vm_store_new(engine, NULL, &store))) return fail("store", err);
    if ((err = k23vm_linker_new(engine, &linker))) return fail("linker", err);
    k23vm_wasi_config cfg;
    k23vm_wasi_config_init(&cfg);
    if ((err = k23vm_wasi_new(&cfg, &wasi))) return fail("wasi", err);
    if ((err = k23vm_wasi_define(wasi, linker, store))) return fail("wasi imports", err);
    k23vm_extern ext;
    printf("wasi_snapshot_preview1.fd_write %s\n",
           k23vm_linker_get(linker, "wasi_snapshot_preview1", 22, "fd_write", 8, &ext) ? "defined" : "missing");
    if ((err = k23vm_linker_instantiate(linker, store, module, &instance, &trap))) return fail("instance", err);
    if (!k23vm_instance_export(instance, "add", 3, &ext)) return fail("export add", NULL);
    k23vm_val args[2] = {{.kind = K23VM_I32, .of.i32 = 2}, {.kind = K23VM_I32, .of.i32 = 40}}, res;
    if ((err = k23vm_func_call(store, ext.of.func, args, 2, &res, 1, &trap)) || trap) return fail("call", err);
    printf("k23vm %s: add(2, 40) = %d\n", K23VM_VERSION_STRING, res.of.i32);
    k23vm_linker_delete(linker);
    k23vm_store_delete(store);
    k23vm_wasi_delete(wasi);
    k23vm_module_delete(module);
    k23vm_engine_delete(engine);
    return 0;
}
