/* ctx_x86_64.c - arch_ctx_save / arch_ctx_restore (src/runtime.h) for x86-64, System V ABI: the
 * freestanding core's setjmp/longjmp, used only to resume exec_call after a guard-page fault
 * (ARCHITECTURE.md 7). It keeps the callee-saved registers (rbx, rbp, r12-r15), the stack pointer
 * as it is after arch_ctx_save returns and the return address; everything else is dead across a
 * call by the ABI. The FP control words are not kept: a fault is resumed by returning from the
 * signal handler, which restores them as they were at the fault, and wasm code does not change
 * them. exec_ctx layout: regs[0] rip, [1] rsp, [2] rbp, [3] rbx, [4..7] r12-r15. */
#include "runtime.h"

#ifdef K23VM_ARCH_X86_64

const bool arch_ctx_supported = true;

__asm__(".text\n"
        ".globl arch_ctx_save\n"
        ".hidden arch_ctx_save\n"
        ".type arch_ctx_save, @function\n"
        "arch_ctx_save:\n"
        "    movq (%rsp), %rax\n" /* return address */
        "    movq %rax, 0(%rdi)\n"
        "    leaq 8(%rsp), %rax\n" /* the caller's rsp once we have returned */
        "    movq %rax, 8(%rdi)\n"
        "    movq %rbp, 16(%rdi)\n"
        "    movq %rbx, 24(%rdi)\n"
        "    movq %r12, 32(%rdi)\n"
        "    movq %r13, 40(%rdi)\n"
        "    movq %r14, 48(%rdi)\n"
        "    movq %r15, 56(%rdi)\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        ".size arch_ctx_save, .-arch_ctx_save\n"
        "\n"
        ".globl arch_ctx_restore\n"
        ".hidden arch_ctx_restore\n"
        ".type arch_ctx_restore, @function\n"
        "arch_ctx_restore:\n"
        "    movq 16(%rdi), %rbp\n"
        "    movq 24(%rdi), %rbx\n"
        "    movq 32(%rdi), %r12\n"
        "    movq 40(%rdi), %r13\n"
        "    movq 48(%rdi), %r14\n"
        "    movq 56(%rdi), %r15\n"
        "    movq 8(%rdi), %rsp\n"
        "    movl %esi, %eax\n"
        "    jmpq *0(%rdi)\n"
        ".size arch_ctx_restore, .-arch_ctx_restore\n");

#endif
