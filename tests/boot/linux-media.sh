#!/bin/sh
# Boot test 4 of issue 3: the Linux 6.1 686 kernel and the busybox initramfs of
# linux-initramfs.sh boot from an IDE disk image made here (an MBR partition table, an
# ext2 partition, extlinux from Debian's extlinux package) or from a CD image (isolinux,
# El Torito) through SeaBIOS, run the same checks and power off.
# usage: linux-media.sh disk|cd HANGAR_RUN ASSETS_DIR
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
"$here/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz"
config="DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=ttyS0"

if [ "$kind" = disk ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "skipped: making a disk image with extlinux needs root (a loop mount)"
        exit 77
    fi
    img=$work/disk.img
    truncate -s 64M "$img"
    echo 'start=2048, type=83, bootable' | sfdisk -q "$img"
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
# shellcheck disable=SC2086
"$run" -m 256 $media --serial "file:$work/serial.log" --clock icount \
    --max-insns 60000000000 || status=$?
check_boot "$status" "$work/serial.log"
