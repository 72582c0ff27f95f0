/* validate.h - validation (spec 3): module-level rules and one pass per function body.
 *
 * validate_func() reads a body through insn_read(), types each instruction and hands it, validated,
 * to an optional sink. The interpreter translator and the JIT front end are sinks: they consume the
 * stream and never decode wasm themselves (ARCHITECTURE.md 1, STYLE.md rule 3).
 */
#ifndef K23VM_VALIDATE_H
#define K23VM_VALIDATE_H

#include "insn.h"
#include "module.h"

/* The validator's view that a sink may read while an instruction is handed to it. */
typedef struct val_ctrl {
    uint16_t op;          /* OP_block, OP_loop, OP_if, OP_else, or OP_COUNT_ for the function body */
    bool unreachable;     /* the rest of this block is dead code (after br, return, unreachable...) */
    uint32_t height;      /* operand stack height at block entry (its parameters excluded) */
    uint32_t start;       /* module offset of the opening block/loop/if (the body's start for
                           * the function frame): identifies the block */
    /* The block type. The function frame has no parameters (they are locals) and the function's
     * results. A loop's branch target takes the params, every other block's the results. */
    uint32_t nparams, nresults;
    const valtype *params, *results;
} val_ctrl;

typedef struct val_state {
    const k23vm_module *module;
    uint32_t funcidx;
    /* Operand types, bottom first; stack[height-1] is the top. In dead code an entry may be 0
     * (the validation algorithm's Unknown: any type). */
    const valtype *stack;
    uint32_t height;
    const val_ctrl *ctrl; /* ctrl[0] is the function body; ctrl[depth-1] the innermost block */
    uint32_t depth;
    /* Locals: parameters first, then declared locals. local_types has nlocals entries, but is
     * NULL for a function with a huge number of locals (beyond 4096 + its body size), which the
     * validator does not expand; val_local_type() answers for any function. */
    uint32_t nlocals;
    const valtype *local_types;
} val_state;

/* The type of local idx of the function being validated, or 0 when it has no such local. */
valtype val_local_type(const val_state *vs, uint32_t idx);

/* The function type of a block type (insn.u.blocktype, 3.2.2): empty, one result, or types[idx].
 * False when a type index is out of range. */
bool val_block_type(const k23vm_module *m, int64_t blocktype, functype *out);

typedef struct val_sink {
    void *ctx;
    /* Before the first instruction. */
    k23vm_error *(*begin)(void *ctx, const val_state *vs);
    /* For every instruction, after it validated and before its effect on the stacks is applied,
     * so vs shows its operands on top of the stack. Dead code (ctrl[depth-1].unreachable) is
     * passed too; a sink may drop it. */
    k23vm_error *(*insn)(void *ctx, const insn *in, const val_state *vs);
    /* After the final `end`: vs shows the function's results on the stack and depth 0. */
    k23vm_error *(*end)(void *ctx, const val_state *vs);
} val_sink;

/* Module-level validation (3.4.10) followed by every function body. The first failure decides
 * the result, except that a malformed body found later still wins over an invalid one found
 * earlier, as the spec decodes the whole module before validating. Fills func.max_height /
 * max_depth and module->declared_refs. */
k23vm_error *validate_module(k23vm_module *m);

/* Validates defined function `defidx` (0 = first non-imported function) and feeds `sink`
 * (may be NULL). Used by validate_module and, lazily, by the translator and the JIT. */
k23vm_error *validate_func(const k23vm_module *m, uint32_t defidx, const val_sink *sink);

/* Validates a constant expression of the given expected type (3.3.10). */
k23vm_error *validate_const_expr(const k23vm_module *m, const constexpr *e, valtype expected);

#endif
