#!/bin/sh
# run.sh - CTest wasi_check: `k23vm run` and the WASI sandbox, with guest.c (compiled by the build):
#  - the sandbox checks under both path resolvers (openat2 and K23VM_WASI_RESOLVE=fallback), in a
#    fixture of symbolic links pointing out of the preopen; afterwards nothing outside has changed;
#  - sockets: --tcplisten, sock_accept/recv/send/shutdown against bash's /dev/tcp;
#  - exit statuses: exit(N) -> N, a trap -> 134 with the message on stderr (an out-of-bounds load
#    under both --bounds modes), --invoke prints results,
#    a missing file and a file that is no module name the file and the reason.
# usage: run.sh K23VM GUEST.wasm
set -u
k23vm=$1
guest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "wasi_check: FAILED: $*" >&2; fail=1; }

fixture() {
    rm -rf "$tmp/box"
    mkdir -p "$tmp/box/root/a" "$tmp/box/outside"
    echo secret >"$tmp/box/secret"
    echo secret >"$tmp/box/outside/secret"
    echo in >"$tmp/box/root/in.txt"
    ln -s "$tmp/box/secret" "$tmp/box/root/out_abs"
    ln -s ../secret "$tmp/box/root/out_rel"
    ln -s ../outside "$tmp/box/root/out_dir"
    ln -s ../../outside "$tmp/box/root/a/out_dir2"
    ln -s .. "$tmp/box/root/a/up"
    ln -s ../nonexistent "$tmp/box/root/out_new"
    ln -s in.txt "$tmp/box/root/in_link"
    ln -s loop2 "$tmp/box/root/loop1"
    ln -s loop1 "$tmp/box/root/loop2"
    (cd "$tmp/box" && find . -path ./root -prune -o -print | sort && cat secret outside/secret) >"$tmp/before"
}

# A kernel (or a seccomp filter) without openat2 leaves the walk only.
modes="openat2 fallback"
if K23VM_WASI_RESOLVE=openat2 "$k23vm" run "$guest" exit 0 2>&1 | grep -q "openat2 is not available"; then
    echo "wasi_check: no openat2 here: the fallback resolver only"
    modes=fallback
fi
for mode in $modes; do
    fixture
    if ! K23VM_WASI_RESOLVE=$mode "$k23vm" run --dir "$tmp/box/root::/r" "$guest" sandbox; then
        bad "sandbox checks ($mode)"
    fi
    (cd "$tmp/box" && find . -path ./root -prune -o -print | sort && cat secret outside/secret) >"$tmp/after"
    cmp -s "$tmp/before" "$tmp/after" || bad "something outside the preopen changed ($mode)"
    [ -e "$tmp/box/nonexistent" ] && bad "a file was made outside ($mode)"
done

out=$("$k23vm" run "$guest" exit 7)
st=$?
[ $st -eq 7 ] || bad "exit 7: status $st"
[ "$out" = "exiting with 7" ] || bad "exit 7: output '$out'"
"$k23vm" run "$guest" trap 2>"$tmp/err"
st=$?
[ $st -eq 134 ] || bad "trap: status $st"
grep -q "trap: unreachable" "$tmp/err" || bad "trap: no message: $(cat "$tmp/err")"
grep -q "#0" "$tmp/err" || bad "trap: no backtrace"
for bounds in guard explicit; do
    "$k23vm" run --bounds $bounds "$guest" oob 2>"$tmp/err"
    st=$?
    [ $st -eq 134 ] || bad "oob ($bounds bounds): status $st"
    grep -q "out of bounds memory access" "$tmp/err" || bad "oob ($bounds bounds): $(cat "$tmp/err")"
done
"$k23vm" run --bounds none "$guest" exit 0 2>"$tmp/err"
st=$?
[ $st -eq 2 ] && grep -q "expected guard or explicit" "$tmp/err" || bad "--bounds none: $st $(cat "$tmp/err")"
out=$("$k23vm" run --invoke add "$guest" 40 2)
[ "$out" = "42" ] || bad "--invoke add 40 2: '$out'"
"$k23vm" run "$tmp/missing.wasm" 2>"$tmp/err"
st=$?
[ $st -eq 1 ] && grep -q "missing.wasm: cannot open: No such file" "$tmp/err" || bad "missing file: $st $(cat "$tmp/err")"
echo "not wasm" >"$tmp/bad.wasm"
"$k23vm" run "$tmp/bad.wasm" 2>"$tmp/err"
st=$?
[ $st -eq 1 ] && grep -q "bad.wasm: malformed module" "$tmp/err" || bad "malformed file: $st $(cat "$tmp/err")"

# Sockets: the guest accepts on --tcplisten's socket; bash's /dev/tcp is the client. A port that
# is taken is retried with another.
served=no
for try in 1 2 3 4 5; do
    port=$((20000 + ($$ * 7 + try * 7919) % 40000))
    "$k23vm" run --tcplisten "127.0.0.1:$port" "$guest" serve >"$tmp/serve.out" 2>&1 &
    pid=$!
    reply=
    for wait in 1 2 3 4 5 6 7 8 9 10; do
        reply=$(bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && echo ping >&3 && cat <&3" 2>/dev/null) && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.2
    done
    wait $pid
    st=$?
    if grep -q "Address already in use" "$tmp/serve.out"; then continue; fi
    [ "$reply" = "pong: ping" ] || bad "socket reply '$reply'"
    [ $st -eq 0 ] || bad "serve: status $st: $(cat "$tmp/serve.out")"
    served=yes
    break
done
[ $served = yes ] || bad "no free port for the socket test"
[ $fail -eq 0 ] && echo "wasi_check: passed"
exit $fail
