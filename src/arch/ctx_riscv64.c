/* ctx_riscv64.c - arch_ctx_save / arch_ctx_restore (src/runtime.h) for RV64, the LP64 ABIs: the
 * freestanding core's setjmp/longjmp, used only to resume exec_call after a guard-page fault
 * (ARCHITECTURE.md 7). It keeps ra, sp, the callee-saved s0-s11 and, under a hard-float ABI
 * (K23VM_RISCV_FLOAT_REGS, config.h), fs0-fs11; a kernel built soft-float has no FP registers to
 * keep. exec_ctx layout: regs[0] ra, [1] sp, [2..13] s0-s11, [14..25] fs0-fs11. */
#include "runtime.h"

#ifdef K23VM_ARCH_RISCV64

const bool arch_ctx_supported = true;

#ifdef K23VM_RISCV_FLOAT_REGS
#define FSAVE                                                                                               \
    "    fsd fs0, 112(a0)\n    fsd fs1, 120(a0)\n    fsd fs2, 128(a0)\n    fsd fs3, 136(a0)\n"                 \
    "    fsd fs4, 144(a0)\n    fsd fs5, 152(a0)\n    fsd fs6, 160(a0)\n    fsd fs7, 168(a0)\n"                 \
    "    fsd fs8, 176(a0)\n    fsd fs9, 184(a0)\n    fsd fs10, 192(a0)\n    fsd fs11, 200(a0)\n"
#define FLOAD                                                                                               \
    "    fld fs0, 112(a0)\n    fld fs1, 120(a0)\n    fld fs2, 128(a0)\n    fld fs3, 136(a0)\n"                 \
    "    fld fs4, 144(a0)\n    fld fs5, 152(a0)\n    fld fs6, 160(a0)\n    fld fs7, 168(a0)\n"                 \
    "    fld fs8, 176(a0)\n    fld fs9, 184(a0)\n    fld fs10, 192(a0)\n    fld fs11, 200(a0)\n"
#else
#define FSAVE ""
#define FLOAD ""
#endif

__asm__(".text\n"
        ".globl arch_ctx_save\n"
        ".hidden arch_ctx_save\n"
        ".type arch_ctx_save, @function\n"
        "arch_ctx_save:\n"
        "    sd ra, 0(a0)\n    sd sp, 8(a0)\n"
        "    sd s0, 16(a0)\n    sd s1, 24(a0)\n    sd s2, 32(a0)\n    sd s3, 40(a0)\n"
        "    sd s4, 48(a0)\n    sd s5, 56(a0)\n    sd s6, 64(a0)\n    sd s7, 72(a0)\n"
        "    sd s8, 80(a0)\n    sd s9, 88(a0)\n    sd s10, 96(a0)\n    sd s11, 104(a0)\n" FSAVE
        "    li a0, 0\n"
        "    ret\n"
        ".size arch_ctx_save, .-arch_ctx_save\n"
        "\n"
        ".globl arch_ctx_restore\n"
        ".hidden arch_ctx_restore\n"
        ".type arch_ctx_restore, @function\n"
        "arch_ctx_restore:\n"
        "    ld ra, 0(a0)\n    ld sp, 8(a0)\n"
        "    ld s0, 16(a0)\n    ld s1, 24(a0)\n    ld s2, 32(a0)\n    ld s3, 40(a0)\n"
        "    ld s4, 48(a0)\n    ld s5, 56(a0)\n    ld s6, 64(a0)\n    ld s7, 72(a0)\n"
        "    ld s8, 80(a0)\n    ld s9, 88(a0)\n    ld s10, 96(a0)\n    ld s11, 104(a0)\n" FLOAD
        "    mv a0, a1\n"
        "    ret\n"
        ".size arch_ctx_restore, .-arch_ctx_restore\n");

#endif
