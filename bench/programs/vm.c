/* vm.c - benchmark kernel: a small stack-machine bytecode interpreter (a switch in a loop: the
 * branch-heavy dispatch of every scripting VM) running a program assembled here. The program sums
 * the Collatz trajectory lengths of 1 .. LIMIT, with a little extra arithmetic per step. */
#include "bench.h"

static volatile uint32_t vm_limit = 100000;

enum op {
    OP_HALT,
    OP_PUSH,  /* imm: push it */
    OP_LOAD,  /* slot: push locals[slot] */
    OP_STORE, /* slot: pop into locals[slot] */
    OP_INC,   /* slot: locals[slot] += 1 */
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_AND,
    OP_XOR,
    OP_SHR, /* imm: shift count */
    OP_LT,
    OP_EQ,
    OP_DUP,
    OP_DROP,
    OP_JMP, /* target */
    OP_JZ,  /* target: pop, jump when zero */
    OP_JNZ, /* target: pop, jump when not zero */
};

#define MAX_CODE 256
#define MAX_LABELS 16
#define MAX_FIXUPS 32

/* A tiny assembler with forward labels. */
typedef struct assembler {
    int32_t code[MAX_CODE];
    int32_t len;
    int32_t label_at[MAX_LABELS];
    int32_t fixup_pos[MAX_FIXUPS], fixup_label[MAX_FIXUPS];
    int32_t nfixups;
} assembler;

static void emit(assembler *as, enum op op)
{
    as->code[as->len++] = (int32_t)op;
}

static void emit1(assembler *as, enum op op, int32_t arg)
{
    as->code[as->len++] = (int32_t)op;
    as->code[as->len++] = arg;
}

static void emit_jump(assembler *as, enum op op, int32_t label)
{
    as->code[as->len++] = (int32_t)op;
    as->fixup_pos[as->nfixups] = as->len;
    as->fixup_label[as->nfixups++] = label;
    as->code[as->len++] = -1;
}

static void place(assembler *as, int32_t label)
{
    as->label_at[label] = as->len;
}

static void resolve(assembler *as)
{
    for (int32_t i = 0; i < as->nfixups; i++)
        as->code[as->fixup_pos[i]] = as->label_at[as->fixup_label[i]];
}

enum { I, N, STEPS, TOTAL, LIMIT_SLOT, NSLOTS };
enum { L_LOOP_I, L_END, L_LOOP_N, L_DONE_N, L_EVEN, L_NEXT };

static void assemble(assembler *as)
{
    emit1(as, OP_PUSH, 1);
    emit1(as, OP_STORE, I);
    place(as, L_LOOP_I); /* while (i < limit) */
    emit1(as, OP_LOAD, I);
    emit1(as, OP_LOAD, LIMIT_SLOT);
    emit(as, OP_LT);
    emit_jump(as, OP_JZ, L_END);
    emit1(as, OP_LOAD, I); /* n = i, steps = 0 */
    emit1(as, OP_STORE, N);
    emit1(as, OP_PUSH, 0);
    emit1(as, OP_STORE, STEPS);
    place(as, L_LOOP_N); /* while (n != 1) */
    emit1(as, OP_LOAD, N);
    emit1(as, OP_PUSH, 1);
    emit(as, OP_EQ);
    emit_jump(as, OP_JNZ, L_DONE_N);
    emit1(as, OP_LOAD, N); /* if (n & 1) n = 3n + 1 */
    emit1(as, OP_PUSH, 1);
    emit(as, OP_AND);
    emit_jump(as, OP_JZ, L_EVEN);
    emit1(as, OP_LOAD, N);
    emit(as, OP_DUP);
    emit(as, OP_DUP);
    emit(as, OP_ADD);
    emit(as, OP_ADD);
    emit1(as, OP_PUSH, 1);
    emit(as, OP_ADD);
    emit1(as, OP_STORE, N);
    emit_jump(as, OP_JMP, L_NEXT);
    place(as, L_EVEN); /* else n >>= 1 */
    emit1(as, OP_LOAD, N);
    emit1(as, OP_SHR, 1);
    emit1(as, OP_STORE, N);
    place(as, L_NEXT);
    emit1(as, OP_INC, STEPS);
    emit_jump(as, OP_JMP, L_LOOP_N);
    place(as, L_DONE_N); /* total = (total + steps * 3 - 1) ^ i */
    emit1(as, OP_LOAD, TOTAL);
    emit1(as, OP_LOAD, STEPS);
    emit1(as, OP_PUSH, 3);
    emit(as, OP_MUL);
    emit(as, OP_ADD);
    emit1(as, OP_PUSH, 1);
    emit(as, OP_SUB);
    emit1(as, OP_LOAD, I);
    emit(as, OP_XOR);
    emit1(as, OP_STORE, TOTAL);
    emit1(as, OP_INC, I);
    emit_jump(as, OP_JMP, L_LOOP_I);
    place(as, L_END);
    emit1(as, OP_LOAD, TOTAL);
    emit1(as, OP_LOAD, STEPS);
    emit(as, OP_DROP);
    emit(as, OP_HALT);
    resolve(as);
}

/* Runs code until HALT; returns the top of the stack and the number of instructions executed. */
static uint64_t execute(const int32_t *code, uint64_t *locals, uint64_t *executed)
{
    uint64_t stack[64];
    int32_t sp = 0, pc = 0;
    uint64_t count = 0;
    for (;;) {
        count++;
        int32_t op = code[pc++];
        switch (op) {
        case OP_HALT:
            *executed = count;
            return stack[sp - 1];
        case OP_PUSH:
            stack[sp++] = (uint64_t)(int64_t)code[pc++];
            break;
        case OP_LOAD:
            stack[sp++] = locals[code[pc++]];
            break;
        case OP_STORE:
            locals[code[pc++]] = stack[--sp];
            break;
        case OP_INC:
            locals[code[pc++]]++;
            break;
        case OP_ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case OP_SUB:
            sp--;
            stack[sp - 1] -= stack[sp];
            break;
        case OP_MUL:
            sp--;
            stack[sp - 1] *= stack[sp];
            break;
        case OP_AND:
            sp--;
            stack[sp - 1] &= stack[sp];
            break;
        case OP_XOR:
            sp--;
            stack[sp - 1] ^= stack[sp];
            break;
        case OP_SHR:
            stack[sp - 1] >>= code[pc++];
            break;
        case OP_LT:
            sp--;
            stack[sp - 1] = stack[sp - 1] < stack[sp];
            break;
        case OP_EQ:
            sp--;
            stack[sp - 1] = stack[sp - 1] == stack[sp];
            break;
        case OP_DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case OP_DROP:
            sp--;
            break;
        case OP_JMP:
            pc = code[pc];
            break;
        case OP_JZ:
            pc = stack[--sp] == 0 ? code[pc] : pc + 1;
            break;
        case OP_JNZ:
            pc = stack[--sp] != 0 ? code[pc] : pc + 1;
            break;
        default:
            *executed = count;
            return 0;
        }
    }
}

uint64_t bench_run(void)
{
    static assembler as;
    as.len = 0;
    as.nfixups = 0;
    assemble(&as);
    uint64_t locals[NSLOTS] = {0};
    locals[LIMIT_SLOT] = vm_limit;
    uint64_t executed = 0;
    uint64_t top = execute(as.code, locals, &executed);
    return bench_mix(bench_mix(top, executed), locals[I]);
}
