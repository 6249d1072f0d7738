#!/bin/sh
# Runs a bare-metal guest test program under hangar-run and compares what it printed on
# the debug console, and its exit status, with the output recorded from QEMU.
# usage: run-guest.sh HANGAR_RUN PROGRAM.bin PROGRAM.expected
set -u
run=$1 bin=$2 expected=$3
out=$(mktemp) && trap 'rm -f "$out" "$out.actual"' EXIT
"$run" --bios "$bin" --debugcon "file:$out" --debug-exit --serial none --no-reboot \
    --clock icount --max-insns 200000000 >/dev/null 2>"$out.err"
status=$?
{ cat "$out"; echo "== exit $status"; } > "$out.actual"
if ! diff -u "$expected" "$out.actual"; then
    cat "$out.err" >&2
    rm -f "$out.err"
    exit 1
fi
rm -f "$out.err"
