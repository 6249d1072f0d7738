#!/bin/sh
# Runs cirrus-blt.bin under hangar-run (Cirrus CL-GD5446) and compares what it printed on
# the debug console, and its exit status, with the output recorded from QEMU, leaving out
# the case lines that QEMU_DIFFS names (cases where QEMU is known to differ from the
# CL-GD5446 as drivers use it; the unit test cirrus-guest checks those against its own
# reference). Each case listed must still differ.
# usage: run-cirrus-guest.sh HANGAR_RUN PROGRAM.bin PROGRAM.expected QEMU_DIFFS
set -u
run=$1 bin=$2 expected=$3 diffs=$4
out=$(mktemp) && trap 'rm -f "$out" "$out.actual" "$out.err" "$out.want" "$out.got"' EXIT
"$run" --vga cirrus --bios "$bin" --debugcon "file:$out" --debug-exit --serial none \
    --no-reboot --clock icount --max-insns 400000000 >/dev/null 2>"$out.err"
status=$?
{ cat "$out"; echo "== exit $status"; } > "$out.actual"
# Lines "c NNNN ..." of the cases listed (first word of each non-comment line).
drop() {
    awk 'NR == FNR { if ($1 !~ /^#/ && NF) skip["c " $1] = 1; next }
         !(substr($0, 1, 6) in skip)' "$diffs" "$1"
}
drop "$expected" > "$out.want"
drop "$out.actual" > "$out.got"
if ! diff -u "$out.want" "$out.got"; then
    cat "$out.err" >&2
    exit 1
fi
# Keep the list honest: every case it names must still differ from QEMU.
for id in $(awk '$1 !~ /^#/ && NF { print $1 }' "$diffs"); do
    if [ "$(grep "^c $id " "$expected")" = "$(grep "^c $id " "$out.actual")" ]; then
        echo "case $id matches QEMU now: take it out of $diffs" >&2
        exit 1
    fi
done
