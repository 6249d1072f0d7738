#!/bin/sh
# End-to-end test of the manager through the accessibility tree (dogtail over AT-SPI), run
# by run-xvfb.sh inside a private X server and D-Bus session. Builds two tiny bootable CDs
# (isolinux, which prints a line and waits at its boot prompt, on the screen and on COM1),
# fetches the boot tests' i386 kernel and busybox (tests/boot/assets.sh) if they are not
# there yet, then hands over to e2e-dogtail.py. Exit 77 (skipped) when dogtail, AT-SPI or
# the CD tools are missing.
# Usage: e2e.sh HANGAR_BINARY TONE_PROGRAM BOOT_ASSETS_DIR
set -eu
hangar=$1 tone=$2 assets=$3
here=$(dirname "$0")
py=""
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c "import dogtail, pyatspi" 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    echo "python3-dogtail / python3-pyatspi not installed: skipped" >&2
    exit 77
fi
if [ ! -x /usr/libexec/at-spi-bus-launcher ]; then
    echo "at-spi2-core not installed: skipped" >&2
    exit 77
fi
if ! command -v xorriso >/dev/null 2>&1 || [ ! -f /usr/lib/ISOLINUX/isolinux.bin ]; then
    echo "xorriso or isolinux not installed: skipped" >&2
    exit 77
fi

work=$(mktemp -d /tmp/hangar-e2e-XXXXXX)
trap 'rm -rf "$work"' EXIT
# A line to recognise on the screen, then a 3 s prompt that ends in an error message (no
# such kernel: "Loading nosuchkernel... failed") and the prompt again: a reset is seen
# when that message goes away. SERIAL (first, as isolinux wants it) puts the prompt on
# COM1 too and reads keys from there: what the serial console types shows at the prompt.
for cd in test second; do
    mkdir -p "$work/$cd/isolinux"
    cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
        "$work/$cd/isolinux/"
    line=$(echo "$cd" | tr '[:lower:]' '[:upper:]')
    cat > "$work/$cd/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
SAY HANGAR $line CD BOOTED
PROMPT 1
TIMEOUT 30
DEFAULT nosuchkernel
CFG
    xorriso -as mkisofs -quiet -o "$work/$cd.iso" -b isolinux/isolinux.bin \
        -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$work/$cd"
done
if ! "$here/../boot/assets.sh" "$assets"; then
    echo "FAIL: the boot tests' kernel and busybox (tests/boot/assets.sh) could not be fetched"
    exit 1
fi

export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" HOME="$work/home"
export GSETTINGS_BACKEND=memory LC_ALL=C.UTF-8 LANGUAGE=C
# Screenshots go to the profile and to Pictures, which is where user-dirs.dirs says.
mkdir -p "$XDG_CONFIG_HOME" "$HOME"
echo "XDG_PICTURES_DIR=\"$work/pictures\"" > "$XDG_CONFIG_HOME/user-dirs.dirs"
# The accessibility bridge must load in the application for this test.
unset NO_AT_BRIDGE
# Not exec: the trap removes the work folder afterwards.
status=0
"$py" "$here/e2e-dogtail.py" "$hangar" "$work" "$tone" "$assets" || status=$?
exit $status
