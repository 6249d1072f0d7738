#!/bin/sh
# Runs a hostile network-card guest program (ne2000-hostile.asm, rtl8139-hostile.asm) as
# the firmware of a machine with that card: the program gives the card out-of-range ring
# pointers, lengths and DMA addresses and must reach its end ("... hostile done", then
# debug-exit 0, which is exit status 1). In the sanitizer build this proves nothing outside
# guest RAM and the card's own memory was touched.
# usage: run-hostile.sh HANGAR_RUN PROGRAM.bin NIC
set -u
run=$1 bin=$2 nic=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 120 "$run" -m 32 --bios "$bin" --nic "$nic" --net none --clock icount \
    --serial none --debugcon stdio --debug-exit > "$out" 2>&1
status=$?
cat "$out"
if [ $status -ne 1 ] || ! grep -q "hostile done" "$out"; then
    echo "FAIL: exit status $status (1 expected) or no \"hostile done\""
    exit 1
fi
