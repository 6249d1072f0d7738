#!/bin/sh
# Regenerates the CPU test vectors under tests/cpu/vectors from this machine's CPU.
# Usage: tests/cpu/gen/gen-vectors.sh [COUNT]   (COUNT random operand sets per form and
# mode, real and protected: default 300, so 600 per form). Needs gcc with -m32 support
# (gcc-multilib) on an x86 host.
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=$top/tests/cpu/vectors
bin=$(mktemp /tmp/hangar-cpugen.XXXXXX)
trap 'rm -f "$bin"' EXIT
gcc -m32 -std=gnu11 -O1 -Wall -Wno-unused-function -fno-pie -no-pie \
    -fno-delete-null-pointer-checks -I"$top/engine/cpu" -I"$top/engine" \
    -o "$bin" "$here/gen.c"
rm -rf "$out"
mkdir -p "$out"
"$bin" "$out" "${1:-300}"
