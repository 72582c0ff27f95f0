/* trap.c - traps as values (k23vm.h, runtime.h): a code, the spec's message (4.4, the reference
 * interpreter's wording that the spec tests match) or a host function's own, and a backtrace the
 * tiers push frame by frame as they unwind.
 *
 * A trap is allocated from the engine's platform, not the store's arena, since it may outlive
 * the store. When that allocation fails, trap_new hands out a static trap of the same code, so a
 * trap is never lost for want of memory; only its frames are.
 */
#include "store.h"

struct k23vm_trap {
    const k23vm_platform *plat; /* NULL: a static trap */
    k23vm_trap_code code;
    const char *msg;
    size_t msg_size;            /* bytes allocated for msg; 0 when msg is a literal */
    VEC(k23vm_frame) frames;
};

static const char *const trap_messages[] = {
    [K23VM_TRAP_UNREACHABLE] = "unreachable",
    [K23VM_TRAP_MEMORY_OUT_OF_BOUNDS] = "out of bounds memory access",
    [K23VM_TRAP_TABLE_OUT_OF_BOUNDS] = "out of bounds table access",
    [K23VM_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [K23VM_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [K23VM_TRAP_INDIRECT_CALL_TYPE] = "indirect call type mismatch",
    [K23VM_TRAP_INTEGER_OVERFLOW] = "integer overflow",
    [K23VM_TRAP_INTEGER_DIVIDE_BY_ZERO] = "integer divide by zero",
    [K23VM_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [K23VM_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [K23VM_TRAP_OUT_OF_FUEL] = "all fuel consumed",
    [K23VM_TRAP_INTERRUPTED] = "interrupted",
    [K23VM_TRAP_HOST] = "host trap",
    [K23VM_TRAP_RESOURCE] = "out of memory",
};
#define TRAP_CODES (sizeof trap_messages / sizeof trap_messages[0])

#define STATIC_TRAP(c) {NULL, (c), NULL, 0, {NULL, 0, 0}}
static k23vm_trap static_traps[TRAP_CODES] = {
    STATIC_TRAP(0),
    STATIC_TRAP(K23VM_TRAP_UNREACHABLE),
    STATIC_TRAP(K23VM_TRAP_MEMORY_OUT_OF_BOUNDS),
    STATIC_TRAP(K23VM_TRAP_TABLE_OUT_OF_BOUNDS),
    STATIC_TRAP(K23VM_TRAP_UNDEFINED_ELEMENT),
    STATIC_TRAP(K23VM_TRAP_UNINITIALIZED_ELEMENT),
    STATIC_TRAP(K23VM_TRAP_INDIRECT_CALL_TYPE),
    STATIC_TRAP(K23VM_TRAP_INTEGER_OVERFLOW),
    STATIC_TRAP(K23VM_TRAP_INTEGER_DIVIDE_BY_ZERO),
    STATIC_TRAP(K23VM_TRAP_INVALID_CONVERSION),
    STATIC_TRAP(K23VM_TRAP_STACK_EXHAUSTED),
    STATIC_TRAP(K23VM_TRAP_OUT_OF_FUEL),
    STATIC_TRAP(K23VM_TRAP_INTERRUPTED),
    STATIC_TRAP(K23VM_TRAP_HOST),
    STATIC_TRAP(K23VM_TRAP_RESOURCE),
};
_Static_assert(K23VM_TRAP_RESOURCE + 1 == TRAP_CODES, "a message for every trap code");

static const char *code_message(k23vm_trap_code code)
{
    return (unsigned)code < TRAP_CODES && trap_messages[code] ? trap_messages[code] : "trap";
}

static k23vm_trap *static_trap(k23vm_trap_code code)
{
    return &static_traps[(unsigned)code < TRAP_CODES && code ? code : K23VM_TRAP_RESOURCE];
}

k23vm_trap *trap_new(k23vm_store *s, k23vm_trap_code code, const char *msg)
{
    const k23vm_platform *plat = s->plat;
    k23vm_trap *t = mem_zalloc(plat, sizeof *t);
    if (!t) return static_trap(code);
    t->plat = plat;
    t->code = code;
    t->msg = code_message(code);
    if (msg) {
        size_t n = 0;
        while (msg[n]) n++;
        char *copy = mem_alloc(plat, n + 1);
        if (copy) {
            memcpy(copy, msg, n + 1);
            t->msg = copy;
            t->msg_size = n + 1;
        }
    }
    return t;
}

/* A trap keeps the innermost frames only: a stack exhausted by deep recursion would otherwise
 * cost a frame record per call, up to the VM stack's size over again. */
enum { TRAP_MAX_FRAMES = 4096 };

void trap_push_frame(k23vm_trap *t, const k23vm_func *f, size_t module_offset)
{
    if (!t || !t->plat || !f || f->kind != FUNC_WASM || t->frames.len >= TRAP_MAX_FRAMES) return;
    if (!VEC_RESERVE(t->plat, &t->frames, 1)) return;
    const k23vm_module *m = f->inst->module;
    k23vm_frame *fr = &t->frames.data[t->frames.len++];
    memset(fr, 0, sizeof *fr);
    fr->funcidx = f->funcidx;
    if (!k23vm_module_func_name(m, f->funcidx, &fr->func_name)) fr->func_name = (k23vm_name){NULL, 0};
    if (m->has_module_name) fr->module_name = (k23vm_name){m->module_name.ptr, m->module_name.len};
    fr->module_offset = module_offset;
}

k23vm_trap_code trap_code(const k23vm_trap *t) { return t->code; }

/* ---- public API ------------------------------------------------------------------------------------ */

k23vm_trap *k23vm_trap_new(k23vm_store *s, const char *message)
{
    if (!s) return static_trap(K23VM_TRAP_HOST);
    return trap_new(s, K23VM_TRAP_HOST, message ? message : code_message(K23VM_TRAP_HOST));
}

k23vm_trap_code k23vm_trap_code_of(const k23vm_trap *t) { return t ? t->code : K23VM_TRAP_RESOURCE; }

const char *k23vm_trap_message(const k23vm_trap *t)
{
    if (!t) return "";
    return t->msg ? t->msg : code_message(t->code);
}

size_t k23vm_trap_frame_count(const k23vm_trap *t) { return t ? t->frames.len : 0; }

bool k23vm_trap_frame(const k23vm_trap *t, size_t i, k23vm_frame *out)
{
    if (!t || !out || i >= t->frames.len) return false;
    *out = t->frames.data[i];
    return true;
}

void k23vm_trap_delete(k23vm_trap *t)
{
    if (!t || !t->plat) return;
    const k23vm_platform *plat = t->plat;
    VEC_FREE(plat, &t->frames);
    if (t->msg_size) mem_free(plat, (char *)t->msg, t->msg_size);
    mem_free(plat, t, sizeof *t);
}
