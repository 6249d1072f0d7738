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
"$here/assets.sh" "$assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/test.sh" <<'SCRIPT'
echo "== cpuinfo"
cat /proc/cpuinfo
seq 1 300000 > /tmp/data
echo "data md5: $(md5sum < /tmp/data)"
gzip -c /tmp/data > /tmp/data.gz
echo "roundtrip md5: $(gunzip -c /tmp/data.gz | md5sum)"
echo "gzip size: $(wc -c < /tmp/data.gz)"
SCRIPT
"$here/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz"
status=0
"$run" -m 256 --kernel "$assets/vmlinuz-686" --initrd "$work/initrd.gz" \
    --append "console=ttyS0" --serial "file:$work/serial.log" --clock icount \
    --max-insns 60000000000 || status=$?
want=$(seq 1 300000 | md5sum | cut -d' ' -f1)
fail() {
    echo "FAIL: $*"
    tail -40 "$work/serial.log"
    exit 1
}
[ "$status" -eq 0 ] || fail "hangar-run exited with status $status, not 0 (ACPI power-off)"
grep -q "init: hangar boot test starting" "$work/serial.log" || fail "init did not start"
grep -q "^model name.*Pentium II" "$work/serial.log" || fail "no Pentium II in /proc/cpuinfo"
grep -q "^flags.*fpu.*tsc.*cx8.*cmov.*mmx.*fxsr" "$work/serial.log" ||
    fail "/proc/cpuinfo flags lack fpu/tsc/cx8/cmov/mmx/fxsr"
grep -q "^data md5: $want" "$work/serial.log" || fail "md5 of the data is not $want"
grep -q "^roundtrip md5: $want" "$work/serial.log" || fail "gzip round trip changed the data"
grep -q "reboot: Power down" "$work/serial.log" || fail "the kernel did not power down"
echo "Linux booted, checksums match the host ($want), powered off with status 0"
