/* k23vm/wasi.h - WASI preview 1 (`wasi_snapshot_preview1`) for k23vm: a hosted library
 * (libk23wasi.a, src/wasi/) on top of the public embedding API. It gives a module the imports that
 * programs built against wasi-libc (or Rust's wasm32-wasi target) expect, backed by POSIX: args,
 * environment, clocks, random, files and directories under preopened host directories, poll,
 * sockets handed in by the embedder, and proc_exit.
 *
 * Use:
 *     k23vm_wasi_config cfg;
 *     k23vm_wasi_config_init(&cfg);               // stdio inherited, nothing preopened
 *     cfg.argv = argv; cfg.argc = argc;
 *     cfg.preopens = dirs; cfg.npreopens = 1;     // {"/tmp/data", "/data"}
 *     k23vm_wasi_new(&cfg, &wasi);
 *     k23vm_wasi_define(wasi, linker, store);     // every wasi_snapshot_preview1 function
 *     k23vm_linker_instantiate(linker, store, module, &inst, &trap);
 *     ... call "_start"; when it traps, k23vm_wasi_exit_code(wasi, &code) says whether that was
 *     proc_exit(code) ...
 *     k23vm_store_delete(store); k23vm_wasi_delete(wasi);
 *
 * Sandbox: the guest reaches the host's files only through its file descriptors: the preopened
 * directories and what path_open opens beneath them. Path resolution never leaves the directory
 * of the descriptor a path is relative to: an absolute path, a `..` past that directory, and a
 * symbolic link whose target is absolute or climbs out all fail with ENOTCAPABLE (76; wasi-libc's
 * errno ENOTCAPABLE, "Capabilities insufficient") and touch nothing outside. Linux's openat2()
 * with RESOLVE_BENEATH does the walking where the kernel has it; otherwise (or when forced, see
 * k23vm_wasi_resolve) the library walks each component itself with O_NOFOLLOW and follows
 * symbolic links by hand (at most 40), tracking the depth below the directory.
 *
 * Rights (preview 1's capabilities) are kept per descriptor and checked by every call
 * (ENOTCAPABLE when missing); path_open gives the new descriptor at most the directory's
 * inheriting rights, fd_fdstat_set_rights can only drop rights.
 *
 * A k23vm_wasi serves one store (the one passed to k23vm_wasi_define) and, like a store, one thread
 * at a time. It must outlive the store's use of its functions (delete the store first).
 */
#ifndef K23VM_WASI_H
#define K23VM_WASI_H

#include "../k23vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A host directory made visible to the guest as a preopened directory named guest_path (what
 * wasi-libc matches absolute and relative paths against, e.g. "/data" or "."). */
typedef struct k23vm_wasi_preopen {
    const char *host_path;
    const char *guest_path;
} k23vm_wasi_preopen;

/* How path names are resolved beneath a directory descriptor. */
typedef enum k23vm_wasi_resolve {
    /* openat2(RESOLVE_BENEATH) when the kernel has it, else the library's own walk. The
     * environment variable K23VM_WASI_RESOLVE=fallback (or =openat2) overrides this default. */
    K23VM_WASI_RESOLVE_AUTO = 0,
    K23VM_WASI_RESOLVE_OPENAT2,  /* openat2 required: k23vm_wasi_new fails without it */
    K23VM_WASI_RESOLVE_FALLBACK, /* always the component-by-component walk */
} k23vm_wasi_resolve;

typedef struct k23vm_wasi_config {
    /* The guest's argv (argv[0] is by convention the program's name) and environment, as
     * "NAME=value" strings. Copied by k23vm_wasi_new. */
    size_t argc;
    const char *const *argv;
    size_t envc;
    const char *const *envp;
    /* Preopened directories: guest fds 3, 4, ... in this order. Each host directory is opened by
     * k23vm_wasi_new (an error names the one that cannot be opened). */
    size_t npreopens;
    const k23vm_wasi_preopen *preopens;
    /* Host sockets (already listening or connected) given to the guest after the directories,
     * for sock_accept/recv/send/shutdown. Duplicated; the caller keeps its own. */
    size_t nsockets;
    const int *sockets;
    /* Host descriptors behind guest fds 0, 1, 2 (duplicated); -1 leaves that guest fd closed.
     * Defaults: 0, 1, 2. */
    int stdin_fd, stdout_fd, stderr_fd;
    k23vm_wasi_resolve resolve;
} k23vm_wasi_config;

typedef struct k23vm_wasi k23vm_wasi;

/* Defaults: no args, no environment, no preopens, stdio inherited, K23VM_WASI_RESOLVE_AUTO. */
void k23vm_wasi_config_init(k23vm_wasi_config *cfg);
/* Copies what cfg holds and opens the preopened directories. Errors: K23VM_ERROR_ARGUMENT for a
 * directory that cannot be opened (message names it and why) or openat2 demanded but missing;
 * K23VM_ERROR_RESOURCE without memory. */
k23vm_error *k23vm_wasi_new(const k23vm_wasi_config *cfg, k23vm_wasi **out);
/* Makes every wasi_snapshot_preview1 function as a host function in store and defines it in
 * linker under "wasi_snapshot_preview1". May be called once per k23vm_wasi. */
k23vm_error *k23vm_wasi_define(k23vm_wasi *wasi, k23vm_linker *linker, k23vm_store *store);
/* proc_exit(code) ends the run with a trap (K23VM_TRAP_HOST, message "exit with code N"); after a
 * call that trapped, this says whether it was that: true and *code the guest's exit code. */
bool k23vm_wasi_exit_code(const k23vm_wasi *wasi, int *code);
/* Whether the library resolves paths with openat2 (true) or its own walk (false). */
bool k23vm_wasi_uses_openat2(const k23vm_wasi *wasi);
/* Closes every guest descriptor and frees the context. */
void k23vm_wasi_delete(k23vm_wasi *wasi);

#ifdef __cplusplus
}
#endif
#endif /* K23VM_WASI_H */
