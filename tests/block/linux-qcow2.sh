#!/bin/sh
# Boot test: the Linux 6.1 686 kernel of tests/boot, with ata_piix and sd_mod loaded from
# its busybox initramfs, uses a qcow2 overlay over a raw base image as /dev/sda: it reads
# what the base holds, writes a file-sized extent and a sector, syncs, reads them back
# (page cache dropped) and powers off. Then the overlay passes qemu-img check (Debian's
# qemu-utils, when installed) and hangar-img check, holds the guest's data, and the base is
# untouched. A second run with --snapshot writes into a throw-away overlay: the image file
# does not change.
# usage: linux-qcow2.sh HANGAR_RUN HANGAR_IMG ASSETS_DIR
set -eu
run=$1 img=$2 assets=$3
here=$(dirname "$0")
boot=$here/../boot
"$boot/assets.sh" "$assets"
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$work/serial.log" ] && tail -30 "$work/serial.log"
    exit 1
}
mods="drivers/scsi/scsi_common.ko drivers/scsi/scsi_mod.ko drivers/ata/libata.ko
      drivers/ata/ata_piix.ko lib/crc64.ko crypto/crc64_rocksoft_generic.ko
      lib/crc64-rocksoft.ko crypto/crct10dif_common.ko crypto/crct10dif_generic.ko
      lib/crc-t10dif.ko block/t10-pi.ko drivers/scsi/sd_mod.ko"
cat > "$work/test.sh" <<SCRIPT
for m in $(echo $mods); do insmod /lib/modules/\$m || echo "insmod \$m failed"; done
i=0
while [ ! -b /dev/sda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
echo "base: \$(dd if=/dev/sda bs=512 skip=100 count=1 2>/dev/null | head -c 16)"
seq 1 200000 > /tmp/d
echo "want md5: \$(md5sum < /tmp/d)"
dd if=/tmp/d of=/dev/sda bs=64k seek=16 2>/dev/null
printf 'GUEST-WROTE-THIS' | dd of=/dev/sda bs=512 seek=30000 conv=sync 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
n=\$(wc -c < /tmp/d)
echo "disk md5: \$(dd if=/dev/sda bs=1M skip=1 count=2 2>/dev/null | head -c \$n | md5sum)"
echo "sector: \$(dd if=/dev/sda bs=512 skip=30000 count=1 2>/dev/null | head -c 16)"
SCRIPT
# shellcheck disable=SC2086
"$boot/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz" \
    "$assets/modules" $mods

truncate -s 16M "$work/base.raw"
printf 'BASE-SECTOR-100!' | dd of="$work/base.raw" bs=512 seek=100 conv=notrunc status=none
base_md5=$(md5sum < "$work/base.raw")
"$img" create -f qcow2 -b base.raw -F raw "$work/disk.qcow2" >/dev/null

boot() {
    status=0
    "$run" -m 128 --kernel "$assets/vmlinuz-686" --initrd "$work/initrd.gz" \
        --append "console=ttyS0 quiet" --serial "file:$work/serial.log" --clock icount \
        --max-insns 60000000000 "$@" || status=$?
    log=$work/serial.log
    [ "$status" -eq 0 ] || fail "hangar-run exited with status $status"
    grep -q "insmod.*failed" "$log" && fail "a module did not load"
    grep -q "^base: BASE-SECTOR-100!" "$log" || fail "the guest did not read the base image"
    want=$(sed -n 's/^want md5: //p' "$log")
    [ -n "$want" ] || fail "no md5 from the guest"
    grep -q "^disk md5: $want" "$log" || fail "the extent read back differs"
    grep -q "^sector: GUEST-WROTE-THIS" "$log" || fail "the sector read back differs"
}

boot --hda "$work/disk.qcow2" --hda-format qcow2
if command -v qemu-img >/dev/null; then
    qemu-img check "$work/disk.qcow2" || fail "qemu-img check found errors"
    qemu-img convert -O raw "$work/disk.qcow2" "$work/out.raw"
else
    echo "qemu-img not installed: no oracle check"
    "$img" convert -O raw "$work/disk.qcow2" "$work/out.raw"
fi
"$img" check "$work/disk.qcow2" >/dev/null || fail "hangar-img check found errors"
[ "$(dd if="$work/out.raw" bs=512 skip=30000 count=1 status=none | head -c 16)" = \
  GUEST-WROTE-THIS ] || fail "the overlay lacks the guest's sector"
[ "$(md5sum < "$work/base.raw")" = "$base_md5" ] || fail "the base image changed"
echo "qcow2 overlay: guest data in the overlay, qemu-img check clean, base untouched"

before=$(md5sum < "$work/disk.qcow2")
boot --hda "$work/disk.qcow2" --snapshot
[ "$(md5sum < "$work/disk.qcow2")" = "$before" ] || fail "--snapshot changed the image"
echo "--snapshot: the guest wrote and read back, the image file is unchanged"
