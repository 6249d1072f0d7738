#!/bin/sh
# Saved states on Linux (issue 6): the busybox Linux guest, in the instruction-counted
# clock, is saved in the middle of a shell loop that prints and computes; a second machine
# restored from that state must print the same serial output and hold the same RAM, CPU
# and device state at the same instruction count as the machine that went on uninterrupted
# (tests/test-savevm.c does the runs and the comparison).
# usage: linux-savevm.sh TEST_SAVEVM ASSETS_DIR
set -eu
test_savevm=$1 assets=$2
here=$(dirname "$0")
"$here/assets.sh" "$assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/test.sh" <<'SCRIPT'
echo "savevm guest up"
i=0
while [ $i -lt 100000 ]; do
    i=$((i + 1))
    echo "line $i $((i * i % 977)) $(cat /proc/uptime)"
done
SCRIPT
"$here/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz"
log=${SAVEVM_LOG:-$work/serial.log}
HANGAR_SAVEVM_KERNEL="$assets/vmlinuz-686" HANGAR_SAVEVM_INITRD="$work/initrd.gz" \
HANGAR_SAVEVM_MARKER="savevm guest up" HANGAR_SAVEVM_SPAN=${SPAN:-600000000} \
HANGAR_SAVEVM_LOG="$log" \
    "$test_savevm" -p /savevm/equivalence
# The save point was inside the loop: both runs printed loop lines after it.
grep -q "savevm guest up" "$log"
n=$(grep -c '^line [0-9]* ' "$log" || true)
echo "the guest printed $n loop lines in all"
[ "$n" -gt 100 ]
