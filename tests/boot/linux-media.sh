#!/bin/sh
# Boot test 4 of issue 3: the Linux 6.1 686 kernel and the busybox initramfs of
# linux-initramfs.sh boot from an IDE disk image made here (an MBR partition table, an
# ext2 partition, extlinux from Debian's extlinux package) or from a CD image (isolinux,
# El Torito) through SeaBIOS, run the same checks and power off.
# disk-host: the disk in the host clock, where image I/O runs on worker threads while the
# guest goes on (engine/block/aio.h): the guest also writes the data to the disk past the
# partition, syncs, drops its caches, reads it back and checksums the whole partition; the
# host then finds the data in the image.
# usage: linux-media.sh disk|disk-host|cd HANGAR_RUN ASSETS_DIR
# Making the disk image mounts it through a loop device: that needs root; without it the
# test is skipped (status 77).
set -eu
kind=$1 run=$2 assets=$3
here=$(dirname "$0")
. "$here/lib.sh"
"$here/assets.sh" "$assets"
work=$(mktemp -d)
mnt=$work/mnt
cleanup() {
    mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
    rm -rf "$work"
}
trap cleanup EXIT
write_test_script "$work/test.sh"
# The kernel's own IDE driver (ata_piix, sd_mod and what they need), in load order.
disk_modules="drivers/scsi/scsi_common.ko drivers/scsi/scsi_mod.ko drivers/ata/libata.ko
  drivers/ata/ata_piix.ko crypto/crct10dif_common.ko crypto/crct10dif_generic.ko
  lib/crc-t10dif.ko lib/crc64.ko crypto/crc64_rocksoft_generic.ko lib/crc64-rocksoft.ko
  block/t10-pi.ko drivers/scsi/sd_mod.ko"
modules=""
if [ "$kind" = disk-host ]; then
    for m in $disk_modules; do
        echo "insmod /lib/modules/$m" >> "$work/test.sh"
        modules="$modules $m"
    done
    cat >> "$work/test.sh" <<'SCRIPT'
i=0
while [ ! -b /dev/sda ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
[ -b /dev/sda ] || echo "no /dev/sda block device"
dd if=/tmp/data of=/dev/sda bs=1M seek=64 conv=fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
echo "disk md5: $(dd if=/dev/sda bs=1M skip=64 2>/dev/null | head -c $(wc -c < /tmp/data) | md5sum)"
echo "partition md5: $(dd if=/dev/sda bs=512 skip=2048 count=129024 2>/dev/null | md5sum)"
SCRIPT
fi
# shellcheck disable=SC2086
"$here/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz" \
    ${modules:+"$assets/modules"} $modules
config="DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0"

if [ "$kind" != cd ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "skipped: making a disk image with extlinux needs root (a loop mount)"
        exit 77
    fi
    img=$work/disk.img
    truncate -s 72M "$img"
    echo 'start=2048, size=129024, type=83, bootable' | sfdisk -q "$img"
    truncate -s 63M "$work/part.img"
    mkfs.ext2 -q -F "$work/part.img"
    mkdir "$mnt"
    mount -o loop "$work/part.img" "$mnt"
    cp "$assets/vmlinuz-686" "$mnt/vmlinuz"
    cp "$work/initrd.gz" "$mnt/initrd.gz"
    mkdir "$mnt/boot"
    echo "$config" > "$mnt/boot/extlinux.conf"
    extlinux --install "$mnt/boot" >/dev/null
    umount "$mnt"
    dd if="$work/part.img" of="$img" bs=1M seek=1 conv=notrunc status=none
    dd if=/usr/lib/syslinux/mbr/mbr.bin of="$img" bs=440 count=1 conv=notrunc status=none
    media="--hda $img --boot c"
else
    tree=$work/iso
    mkdir -p "$tree/isolinux"
    cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
        "$tree/isolinux/"
    cp "$assets/vmlinuz-686" "$tree/vmlinuz"
    cp "$work/initrd.gz" "$tree/initrd.gz"
    echo "$config" > "$tree/isolinux/isolinux.cfg"
    xorriso -as mkisofs -quiet -o "$work/cd.iso" -b isolinux/isolinux.bin \
        -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$tree"
    media="--cdrom $work/cd.iso --boot d"
fi
status=0
if [ "$kind" = disk-host ]; then
    # shellcheck disable=SC2086
    timeout 600 "$run" -m 256 $media --serial "file:$work/serial.log" --clock host ||
        status=$?
else
    # shellcheck disable=SC2086
    "$run" -m 256 $media --serial "file:$work/serial.log" --clock icount \
        --max-insns 60000000000 || status=$?
fi
check_boot "$status" "$work/serial.log"
if [ "$kind" = disk-host ]; then
    want=$(seq 1 300000 | md5sum | cut -d' ' -f1)
    grep -q "^disk md5: $want" "$work/serial.log" ||
        { echo "FAIL: the data read back from the disk differs"; exit 1; }
    part=$(dd if="$work/disk.img" bs=1M skip=1 count=63 status=none | md5sum | cut -d' ' -f1)
    grep -q "^partition md5: $part" "$work/serial.log" ||
        { echo "FAIL: the guest read the partition differently from the image"; exit 1; }
    got=$(dd if="$work/disk.img" bs=1M skip=64 status=none | head -c "$(seq 1 300000 | wc -c)" |
          md5sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "FAIL: the image lacks the data the guest wrote"; exit 1; }
    echo "disk I/O through worker threads: written, read back and found in the image"
fi
