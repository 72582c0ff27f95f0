#!/bin/sh
# check-freestanding.sh - the freestanding check (ARCHITECTURE.md 7, STYLE.md rule 7): the core
# library's objects (CMake target k23vm_core, src/ without src/platform/) may leave undefined
# nothing but memcpy, memset, memmove and memcmp. Anything else (a libc
# function, __stack_chk_fail, a compiler runtime helper) would not link into a kernel.
# _GLOBAL_OFFSET_TABLE_ is let through: the assembler names it for any GOT-relative relocation (an
# address taken in position-independent code) and every ELF linker defines it; it is no library.
#
# usage: check-freestanding.sh NM OBJECT-LIST-FILE   (the file lists one object path a line)
set -eu
nm=$1
list=$2
allowed='^(memcpy|memset|memmove|memcmp|_GLOBAL_OFFSET_TABLE_) '

count=0
defined=$(mktemp)
undefined=$(mktemp)
trap 'rm -f "$defined" "$undefined"' EXIT
while IFS= read -r obj; do
    [ -n "$obj" ] || continue
    count=$((count + 1))
    if [ ! -f "$obj" ]; then
        echo "check-freestanding: missing object $obj (build the k23vm target first)" >&2
        exit 1
    fi
    "$nm" --defined-only "$obj" | awk 'NF >= 3 { print $3 }' >>"$defined"
    # "needs" lines: symbol and the object that needs it.
    "$nm" -u "$obj" | awk -v o="$(basename "$obj")" '{ print $NF, o }' >>"$undefined"
done <"$list"

if [ "$count" -eq 0 ]; then
    echo "check-freestanding: no core objects listed in $list" >&2
    exit 1
fi

# A symbol one core object needs and another defines is fine; what is left must come from outside.
bad=$(sort -u "$defined" | awk 'NR == FNR { def[$1] = 1; next } !($1 in def)' - "$undefined" |
    grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
    echo "$bad" | while read -r sym obj; do
        echo "check-freestanding: $obj needs $sym" >&2
    done
    echo "check-freestanding: FAILED: the core may need only memcpy/memset/memmove/memcmp from outside" >&2
    exit 1
fi
echo "check-freestanding: $count core objects need only memcpy/memset/memmove/memcmp from outside"
