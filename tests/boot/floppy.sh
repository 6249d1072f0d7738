#!/bin/sh
# SeaBIOS boots a 1.44 MB floppy image (floppy-boot.asm) from drive A, which reads the rest
# of cylinder 0 through INT 13h (floppy controller, DMA channel 2) and checks every sector.
# usage: floppy.sh HANGAR_RUN IMAGE
set -u
run=$1 img=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$img" "$work/floppy.img"
"$run" --fda "$work/floppy.img" --boot a --debug-exit --debugcon "file:$work/con.log" \
    --serial none --clock icount --max-insns 2000000000 -m 16
status=$?
grep "^floppy boot" "$work/con.log"
if [ "$status" -ne 1 ] || ! grep -q "cylinder 0 read correctly" "$work/con.log"; then
    echo "FAIL: status $status (1 expected)"
    tail -20 "$work/con.log"
    exit 1
fi
cmp -s "$img" "$work/floppy.img" || { echo "FAIL: reading changed the image"; exit 1; }
