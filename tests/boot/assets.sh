#!/bin/sh
# Fetches the i386 Debian packages the boot tests use (docs/testing.md, layer 4) into a
# cache folder, with apt-get and a private state directory so the host's package setup is
# untouched, and unpacks what the tests need:
#   DIR/vmlinuz-686        Linux 6.1 "686" kernel (linux-image-6.1.0-*-686-unsigned)
#   DIR/modules/           its modules tree (lib/modules/VERSION)
#   DIR/busybox            busybox-static for i386
# usage: assets.sh DIR      (does nothing when the files are already there)
set -eu
dir=$1
[ -f "$dir/vmlinuz-686" ] && [ -f "$dir/busybox" ] && exit 0
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/partial" "$dir/debs"
opts="-oAPT::Architecture=i386 -oAPT::Architectures=i386 -oDir::State::Lists=$dir/apt/lists
      -oDir::Cache=$dir/apt/cache -oDir::State::Status=/dev/null -oAPT::Sandbox::User=root -q"
# shellcheck disable=SC2086
apt-get $opts update >/dev/null 2>&1 || true  # some mirrors lack i386 indexes: checked below
# shellcheck disable=SC2086
kernel=$(apt-cache $opts search '^linux-image-6\.1\.0-[0-9]+-686-unsigned$' |
         awk '{print $1}' | sort -V | tail -1)
if [ -z "$kernel" ]; then
    echo "assets.sh: no linux-image-6.1.0-*-686-unsigned package for i386 found" >&2
    exit 1
fi
# shellcheck disable=SC2086
(cd "$dir/debs" && apt-get $opts download "$kernel" busybox-static)
rm -rf "$dir/x" && mkdir -p "$dir/x"
for deb in "$dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$dir/x"
done
cp "$dir"/x/boot/vmlinuz-* "$dir/vmlinuz-686.tmp"
rm -rf "$dir/modules" && mv "$dir"/x/lib/modules "$dir/modules"
cp "$dir/x/bin/busybox" "$dir/busybox.tmp"
rm -rf "$dir/x" "$dir/debs"
mv "$dir/busybox.tmp" "$dir/busybox"
mv "$dir/vmlinuz-686.tmp" "$dir/vmlinuz-686"
echo "boot assets: $kernel, busybox-static (i386) in $dir"
