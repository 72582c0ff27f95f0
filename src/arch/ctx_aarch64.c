/* ctx_aarch64.c - arch_ctx_save / arch_ctx_restore (src/runtime.h) for AArch64, AAPCS64: the
 * freestanding core's setjmp/longjmp, used only to resume exec_call after a guard-page fault
 * (ARCHITECTURE.md 7). It keeps the callee-saved registers x19-x28, the frame pointer x29, the
 * link register x30 (the return address), sp, and the low halves d8-d15 of v8-v15, which AAPCS64
 * also makes callee-saved. exec_ctx layout: regs[0..9] x19-x28, [10] x29, [11] x30, [12] sp,
 * [13..20] d8-d15. arch_ctx_restore returns through `ret`, so branch target identification (BTI)
 * is not involved; the saved x30 is the unsigned return address that `bl` left. */
#include "runtime.h"

#ifdef K23VM_ARCH_AARCH64

const bool arch_ctx_supported = true;

__asm__(".text\n"
        ".globl arch_ctx_save\n"
        ".hidden arch_ctx_save\n"
        ".type arch_ctx_save, %function\n"
        "arch_ctx_save:\n"
        "    stp x19, x20, [x0, #0]\n"
        "    stp x21, x22, [x0, #16]\n"
        "    stp x23, x24, [x0, #32]\n"
        "    stp x25, x26, [x0, #48]\n"
        "    stp x27, x28, [x0, #64]\n"
        "    stp x29, x30, [x0, #80]\n"
        "    mov x16, sp\n"
        "    str x16, [x0, #96]\n"
        "    stp d8, d9, [x0, #104]\n"
        "    stp d10, d11, [x0, #120]\n"
        "    stp d12, d13, [x0, #136]\n"
        "    stp d14, d15, [x0, #152]\n"
        "    mov w0, #0\n"
        "    ret\n"
        ".size arch_ctx_save, .-arch_ctx_save\n"
        "\n"
        ".globl arch_ctx_restore\n"
        ".hidden arch_ctx_restore\n"
        ".type arch_ctx_restore, %function\n"
        "arch_ctx_restore:\n"
        "    ldp x19, x20, [x0, #0]\n"
        "    ldp x21, x22, [x0, #16]\n"
        "    ldp x23, x24, [x0, #32]\n"
        "    ldp x25, x26, [x0, #48]\n"
        "    ldp x27, x28, [x0, #64]\n"
        "    ldp x29, x30, [x0, #80]\n"
        "    ldr x16, [x0, #96]\n"
        "    mov sp, x16\n"
        "    ldp d8, d9, [x0, #104]\n"
        "    ldp d10, d11, [x0, #120]\n"
        "    ldp d12, d13, [x0, #136]\n"
        "    ldp d14, d15, [x0, #152]\n"
        "    mov w0, w1\n"
        "    ret\n"
        ".size arch_ctx_restore, .-arch_ctx_restore\n");

#endif
