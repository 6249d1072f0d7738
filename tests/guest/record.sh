#!/bin/sh
# Records the expected output of guest test programs from qemu-system-i386 (Debian's
# qemu-system-x86), the oracle of docs/testing.md. Run from the source tree after a build:
#   tests/guest/record.sh build NAME...     (writes tests/guest/NAME.expected)
set -eu
build=$1; shift
here=$(dirname "$0")
for name in "$@"; do
    bin="$build/tests/guest/$name.bin"
    out=$(mktemp)
    status=0
    timeout 60 qemu-system-i386 -machine pc -cpu pentium2 -m 32 -bios "$bin" -display none \
        -debugcon "file:$out" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -no-reboot -serial null -monitor none -icount shift=0 || status=$?
    { cat "$out"; echo "== exit $status"; } > "$here/$name.expected"
    rm -f "$out"
    echo "$name: exit $status"
done
