#!/bin/sh
# run.sh - CTest install_check: installs the build into a temporary prefix, then builds
# tools/install-check/example.c against that copy twice, with pkg-config and with CMake's
# find_package, runs both programs and the installed bin/k23vm, and removes the prefix.
#
# usage: run.sh CMAKE BUILD-DIR SOURCE-DIR(tools/install-check) CC
set -eu
cmake=$1
build=$2
src=$3
cc=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
for f in bin/k23vm lib/libk23vm.a lib/libk23wasi.a include/k23vm.h include/k23vm/wasi.h \
    include/k23vm/platform.h lib/pkgconfig/k23vm.pc lib/cmake/k23vm/k23vmConfig.cmake; do
    [ -e "$tmp/prefix/$f" ] || { echo "install_check: $f not installed" >&2; exit 1; }
done
"$tmp/prefix/bin/k23vm" --version

# pkg-config
flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs k23vm)
"$cc" -std=c11 -Wall -Wextra -Werror "$src/example.c" $flags -o "$tmp/example-pc"
"$tmp/example-pc"

# find_package
"$cmake" -S "$src" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc" \
    >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/build/example"
echo "install_check: pkg-config and find_package builds against $tmp/prefix work"
