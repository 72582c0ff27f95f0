#!/usr/bin/env bash
# run-test.sh - the harness of the WASI tests (registered with CTest by tests/wasi/CMakeLists.txt).
# Runs one test program of tests/wasi/progs/ (compiled to wasm32-wasi) under a runtime in a fresh
# temporary directory, then compares its standard output with tests/wasi/expected/CASE.txt, its
# exit status with what the case expects, and, where the case says, its stderr and the files it
# left on the host (for the escape case: that nothing outside the preopen changed).
#
#   run-test.sh RUNTIME WASM_DIR CASE
#
# RUNTIME is `k23vm:PATH` (PATH to the k23vm program, run as `PATH run ...`) or `node:SCRIPT`
# (tests/wasi/node-wasi.mjs, node:wasi with the same options, the reference used to check the
# expected outputs by hand; where Node's WASI differs, see tests/wasi/README.md).
# With K23VM_WASI_ACTUAL=DIR set, the actual standard output is also copied to DIR/CASE.txt.
# The escape case resolves paths as K23VM_WASI_RESOLVE in the environment says (openat2 or
# fallback), so CTest runs it once for each.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 k23vm:PATH|node:SCRIPT WASM_DIR CASE" >&2
    exit 2
fi
runtime=$1
wasm_dir=$2
case_name=$3
src_dir=$(cd "$(dirname "$0")" && pwd)
expected_dir=$src_dir/expected

T=$(mktemp -d "${TMPDIR:-/tmp}/k23vm-wasi-$case_name.XXXXXX")
trap 'rm -rf "$T"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run_guest PROG [runtime options and program args...]: runs it with stdin from $T/stdin
# (empty unless the case wrote it); leaves $T/stdout, $T/stderr and $status.
run_guest() {
    local prog=$1
    shift
    local opts=() args=()
    while [ $# -gt 0 ]; do
        case $1 in
        --dir | --env) opts+=("$1" "$2"); shift 2 ;;
        --) shift; args+=("$@"); break ;;
        *) args+=("$1"); shift ;;
        esac
    done
    [ -e "$T/stdin" ] || : >"$T/stdin"
    local cmd
    case $runtime in
    k23vm:*) cmd=("${runtime#k23vm:}" run) ;;
    node:*) cmd=(node --no-warnings "${runtime#node:}") ;;
    *) echo "unknown runtime $runtime" >&2; exit 2 ;;
    esac
    echo "+ ${cmd[*]} ${opts[*]} $wasm_dir/$prog.wasm ${args[*]}" >&2
    status=0
    "${cmd[@]}" "${opts[@]}" "$wasm_dir/$prog.wasm" "${args[@]}" <"$T/stdin" >"$T/stdout" 2>"$T/stderr" || status=$?
}

# expect_output FILE: stdout equals FILE (a diff otherwise).
expect_output() {
    if [ -n "${K23VM_WASI_ACTUAL:-}" ]; then # where to keep the actual output (to update expected/)
        cp "$T/stdout" "$K23VM_WASI_ACTUAL/$case_name.txt"
    fi
    if ! diff -u "$1" "$T/stdout" >"$T/diff"; then
        fail "standard output differs from $1:"
        cat "$T/diff" >&2
        echo "--- stderr:" >&2
        cat "$T/stderr" >&2
    fi
}

expect_status() {
    if [ "$status" -ne "$1" ]; then
        fail "exit status $status, expected $1"
        cat "$T/stderr" >&2
    fi
}

expect_file() { # PATH CONTENTS
    if [ ! -f "$1" ] || [ "$(cat "$1"; echo x)" != "$2"x ]; then
        fail "$1 should contain '$2'"
    fi
}

# A listing of a host tree: every path with its type, size, mtime, link count, link target.
snapshot() {
    (cd "$1" && find . -printf '%p %y %s %T@ %n %l\n' | sort)
}

simple_case() { # PROG [args]: a sandbox, the program's output compared, status 0
    mkdir -p "$T/sandbox"
    run_guest "$1" --dir "$T/sandbox::/sandbox" "${@:2}"
    expect_output "$expected_dir/$case_name.txt"
    expect_status 0
}

case $case_name in
files)
    simple_case files
    expect_file "$T/sandbox/final.txt" "final contents
"
    expect_file "$T/sandbox/hard.txt" "c
"
    [ "$(stat -c %Y "$T/sandbox/final.txt")" = 1000000000 ] || fail "final.txt's host mtime is not 1000000000"
    [ "$(ls -A "$T/sandbox" | tr '\n' ' ')" = "final.txt hard.txt " ] ||
        fail "sandbox holds $(ls -A "$T/sandbox" | tr '\n' ' '), expected final.txt hard.txt"
    ;;
dirs)
    simple_case dirs
    [ "$(ls "$T/sandbox/keep/inner" | wc -l)" = 300 ] || fail "keep/inner does not hold 300 files on the host"
    [ "$(ls -A "$T/sandbox" | tr '\n' ' ')" = "keep " ] || fail "the sandbox holds more than keep/"
    ;;
args_env)
    export K23VM_HOST_SECRET=must-not-be-seen
    run_guest args_env --env K23VM_TEST_A=1 --env "K23VM_TEST_B=two words = x" --env EMPTY= \
        -- "a b" "" "ünï" -x --dir
    expect_output "$expected_dir/args_env.txt"
    expect_status 0
    ;;
clocks | random)
    run_guest "$case_name"
    expect_output "$expected_dir/$case_name.txt"
    expect_status 0
    ;;
poll)
    simple_case poll
    ;;
stdio)
    printf 'first line\nsecond line with ünïcode\n\nlast, without newline' >"$T/stdin"
    run_guest stdio
    expect_output "$expected_dir/stdio.txt"
    expect_status 0
    [ "$(cat "$T/stderr")" = "this goes to stderr" ] || fail "stderr is '$(cat "$T/stderr")'"
    ;;
rights)
    mkdir -p "$T/sandbox"
    printf 'read only\n' >"$T/sandbox/ro.txt"
    before=$(snapshot "$T/sandbox" | grep ro.txt)
    run_guest rights --dir "$T/sandbox::/sandbox"
    expect_output "$expected_dir/rights.txt"
    expect_status 0
    expect_file "$T/sandbox/ro.txt" "read only
"
    [ "$(snapshot "$T/sandbox" | grep ro.txt)" = "$before" ] || fail "ro.txt changed on the host"
    ;;
exit)
    for how in return0:0 exit3:3 return7:7 exit255:255; do
        run_guest exit "${how%:*}"
        expect_status "${how#*:}"
        [ "$(cat "$T/stdout")" = "exit test: ${how%:*}" ] || fail "${how%:*}: stdout is '$(cat "$T/stdout")'"
    done
    run_guest exit trap
    if [ "$status" -eq 0 ]; then fail "a trap exited with status 0"; fi
    [ "$(cat "$T/stdout")" = "exit test: trap" ] || fail "trap: stdout is '$(cat "$T/stdout")'"
    grep -q unreachable "$T/stderr" || fail "trap: stderr does not name the trap (unreachable)"
    # the backtrace, innermost first, names the functions from the name section
    bt=$(grep -o -E '(^|[[:space:]])(crash_here|crash_caller|main)([[:space:]]|\(|$)' "$T/stderr" |
        tr -d ' (\n' || true)
    [ "$bt" = "crash_herecrash_callermain" ] || fail "trap: no backtrace crash_here, crash_caller, main on stderr"
    cat "$T/stderr" >&2
    ;;
pointers)
    mkdir -p "$T/sandbox"
    ln -s target "$T/sandbox/link"
    run_guest pointers --dir "$T/sandbox::/sandbox"
    expect_output "$expected_dir/pointers.txt"
    expect_status 0
    [ "$(ls -A "$T/sandbox")" = link ] || fail "the sandbox holds $(ls -A "$T/sandbox" | tr '\n' ' '), expected link only"
    ;;
sockets)
    simple_case sockets
    ;;
cwd)
    # a preopen named "." (relative paths), then one named as on the host (--dir HOST)
    mkdir -p "$T/sandbox"
    run_guest cwd --dir "$T/sandbox::." -- .
    expect_output "$expected_dir/cwd.txt"
    expect_status 0
    expect_file "$T/sandbox/hello.txt" "hello
"
    rm "$T/sandbox/hello.txt"
    run_guest cwd --dir "$T/sandbox" -- "$T/sandbox"
    expect_output "$expected_dir/cwd.txt"
    expect_status 0
    expect_file "$T/sandbox/hello.txt" "hello
"
    ;;
escape)
    # the guest's world, apart from the harness's own files in $T
    B=$T/root
    mkdir -p "$B/outside/sub" "$B/sandbox/sub"
    printf 'sentinel\n' >"$B/outside/sentinel.txt"
    touch -d '2001-02-03 04:05:06' "$B/outside/sentinel.txt"
    printf 'inside\n' >"$B/sandbox/inside.txt"
    ln -s ../outside/sentinel.txt "$B/sandbox/link_rel"
    ln -s "$B/outside/sentinel.txt" "$B/sandbox/link_abs"
    ln -s ../outside "$B/sandbox/dir_out"
    ln -s "$B/outside" "$B/sandbox/dir_abs"
    ln -s sub/hop2 "$B/sandbox/hop1"
    ln -s ../../sandbox/inside.txt "$B/sandbox/sub/hop2"
    ln -s sub/ok2 "$B/sandbox/ok1"
    ln -s ../inside.txt "$B/sandbox/sub/ok2"
    ln -s .. "$B/sandbox/sub/up"
    ln -s ../.. "$B/sandbox/sub/upup"
    ln -s loop "$B/sandbox/loop"
    before_out=$(snapshot "$B/outside")
    before_top=$(ls -A "$B")
    run_guest escape --dir "$B/sandbox::/sandbox" -- "$B/outside/sentinel.txt"
    expect_output "$expected_dir/escape.txt"
    expect_status 0
    after_out=$(snapshot "$B/outside")
    if [ "$after_out" != "$before_out" ]; then
        fail "the directory outside the preopen changed:"
        diff <(echo "$before_out") <(echo "$after_out") >&2 || true
    fi
    [ "$(ls -A "$B")" = "$before_top" ] || fail "something was created next to the preopen: $(ls -A "$B" | tr '\n' ' ')"
    expect_file "$B/outside/sentinel.txt" "sentinel
"
    expect_file "$B/sandbox/inside.txt" "inside
"
    for f in hard.txt stolen.txt moved.txt created.txt newlink; do
        [ ! -e "$B/sandbox/$f" ] || fail "$f was created in the sandbox"
    done
    ;;
*)
    echo "unknown case $case_name" >&2
    exit 2
    ;;
esac

if [ $failures -ne 0 ]; then
    echo "$case_name: $failures failures (runtime $runtime, K23VM_WASI_RESOLVE=${K23VM_WASI_RESOLVE:-})" >&2
    exit 1
fi
echo "$case_name: passed (runtime $runtime, K23VM_WASI_RESOLVE=${K23VM_WASI_RESOLVE:-})"
