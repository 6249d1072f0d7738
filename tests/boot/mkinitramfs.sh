#!/bin/sh
# Builds a busybox initramfs (newc cpio, gzip) whose /init runs a test script.
# usage: mkinitramfs.sh BUSYBOX SCRIPT OUT.cpio.gz [MODULES_DIR MODULE...]
# The script runs as /test.sh under busybox sh after /proc, /sys and /dev are mounted;
# the named kernel modules (paths relative to MODULES_DIR/VERSION/kernel) are copied in.
set -eu
busybox=$1 script=$2 out=$3
shift 3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/mnt" "$root/lib"
cp "$busybox" "$root/bin/busybox"
for app in sh mount umount cat echo md5sum gzip gunzip dd poweroff sleep head tail seq \
           awk grep ls mkdir insmod modprobe uname sync wc cmp tr sed printf \
           ifconfig route ip udhcpc wget httpd nc rm touch date; do
    ln -s busybox "$root/bin/$app"
done
cp "$script" "$root/test.sh"
if [ $# -gt 0 ]; then
    mods=$1
    shift
    ver=$(ls "$mods" | head -1)
    for m in "$@"; do
        mkdir -p "$root/lib/modules/$(dirname "$m")"
        cp "$mods/$ver/kernel/$m" "$root/lib/modules/$m"
    done
fi
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "init: hangar boot test starting"
sh /test.sh
echo "init: test script ended with status $?"
poweroff -f
INIT
chmod +x "$root/init" "$root/test.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$out"
