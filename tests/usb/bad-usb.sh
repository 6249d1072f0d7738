#!/bin/sh
# hangar-run --usb with bad values: an unknown device, a missing or too small storage
# image. Each must give a clear message on stderr and exit status 1.
# usage: bad-usb.sh HANGAR_RUN
set -u
run=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
head -c 100 /dev/zero > "$work/tiny.img"

expect() {
    what=$1 pattern=$2
    shift 2
    "$run" --serial none --clock icount --max-insns 1000000 "$@" >/dev/null 2>"$work/.err"
    status=$?
    if [ "$status" -ne 1 ] || ! grep -qE "$pattern" "$work/.err"; then
        echo "FAIL: $what: status $status, message: $(cat "$work/.err")"
        failed=$((failed + 1))
    else
        echo "ok: $what: $(head -1 "$work/.err")"
    fi
}

expect "unknown device" 'unknown USB device "printer": use tablet' --usb tablet,printer
expect "missing image" 'USB storage: .*/missing.img' --usb "storage:$work/missing.img"
expect "tiny image" 'tiny.img is too small to be a disk image' --usb "storage:$work/tiny.img"
[ "$failed" -eq 0 ] || exit 1
