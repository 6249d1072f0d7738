#!/bin/sh
# SeaBIOS boots from a USB storage device (issue 9): no IDE disk, the image (usb-boot.asm)
# on hangar-run --usb storage:FILE; SeaBIOS's UHCI and USB mass storage drivers find it, it
# becomes the boot disk, and its boot sector reads 63 more sectors through INT 13h.
# usage: usb-boot.sh HANGAR_RUN IMAGE
set -u
run=$1 img=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$img" "$work/usb.img"
"$run" --usb "storage:$work/usb.img" --debug-exit --debugcon "file:$work/con.log" \
    --serial none --clock icount --max-insns 4000000000 -m 32
status=$?
grep "^usb boot" "$work/con.log"
grep -i "usb\|uhci\|boot" "$work/con.log" | grep -v "^usb boot" | head -20
if [ "$status" -ne 1 ] || ! grep -q "sectors 1-63 read correctly" "$work/con.log"; then
    echo "FAIL: status $status (1 expected)"
    tail -30 "$work/con.log"
    exit 1
fi
echo "SeaBIOS booted the USB disk"
