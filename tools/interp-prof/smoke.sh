#!/bin/sh
# smoke.sh TOOL SMOKE.wasm - CTest interp_prof_smoke: k23vm-interp-prof runs smoke.wat's `run`,
# prints pairs and a dump of exactly the functions that ran, writes counts, and `report` reads
# them back.
set -eu
tool=$1
wasm=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/k23vm-interp-prof.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$T/out" >&2; exit 1; }

"$tool" --top 20 --dump --counts "$T/counts" "$wasm" > "$T/out"
grep -q 'run() = 338350$' "$T/out" || fail "no result line 'run() = 338350'"
grep -q '^top 20 instruction pairs' "$T/out" || fail "no pair table"
grep -q "^top 20 instructions" "$T/out" || fail "no instruction table"
# The loop runs 100 times: its back edge (a compare-and-branch back-edge form, suffix _b) and the
# call are among the pairs.
grep -Eq ' -> br_i32_[a-z_]+_b$' "$T/out" || fail "no back-edge branch among the top pairs"
grep -q 'x_call' "$T/out" || fail "no call in the profile"
# The dump: the two functions that ran ($sq, run), not $never (translated lazily, never called).
grep -q '^func 0 sq:' "$T/out" || fail "sq not dumped"
grep -q '^func 2 ' "$T/out" || fail "run not dumped"
grep -q '^func 1 ' "$T/out" && fail "never was dumped but never ran"
grep -q '^2 of 3 functions translated$' "$T/out" || fail "wrong count of translated functions"
grep -Eq '^ +[0-9]+  br_i32_[a-z_]+_b .*-> [0-9]+$' "$T/out" || fail "no branch target in the dump"

"$tool" report --top 3 --per 2 smoke="$T/counts" > "$T/out"
grep -q '^## Top 3 pairs over the bench suite (1 programs)$' "$T/out" || fail "report: no aggregate"
grep -q '^### smoke (' "$T/out" || fail "report: no per-program table"
echo "interp_prof_smoke: ok"
