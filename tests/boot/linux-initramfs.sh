#!/bin/sh
# Boot test 3 of issue 3: Linux 6.1 "686" (Debian's i386 package) with a busybox initramfs
# made here boots directly (--kernel/--initrd, through SeaBIOS and our option ROM) in the
# instruction-counted clock mode, runs a script that prints /proc/cpuinfo and checksums of
# generated data (an md5sum and a gzip round trip), and powers off through ACPI; the
# emulator must then exit with status 0 and the checksums must equal the host's.
# usage: linux-initramfs.sh HANGAR_RUN ASSETS_DIR
set -eu
run=$1 assets=$2
here=$(dirname "$0")
. "$here/lib.sh"
"$here/assets.sh" "$assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
write_test_script "$work/test.sh"
"$here/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz"
status=0
"$run" -m 256 --kernel "$assets/vmlinuz-686" --initrd "$work/initrd.gz" \
    --append "console=ttyS0" --serial "file:$work/serial.log" --clock icount \
    --max-insns 60000000000 || status=$?
check_boot "$status" "$work/serial.log"
