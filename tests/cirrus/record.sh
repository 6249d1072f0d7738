#!/bin/sh
# Records cirrus-blt.expected from qemu-system-i386 -vga cirrus (Debian's qemu-system-x86),
# the oracle of docs/testing.md. Run from the source tree after a build:
#   tests/cirrus/record.sh build
set -eu
build=$1
here=$(dirname "$0")
bin="$build/tests/cirrus/cirrus-blt.bin"
out=$(mktemp)
status=0
timeout 120 qemu-system-i386 -machine pc -cpu pentium2 -m 32 -bios "$bin" -vga cirrus \
    -display none -debugcon "file:$out" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -no-reboot -serial null -monitor none -icount shift=0 || status=$?
{ cat "$out"; echo "== exit $status"; } > "$here/cirrus-blt.expected"
rm -f "$out"
echo "cirrus-blt: exit $status"
