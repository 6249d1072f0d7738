#!/bin/sh
# Linux 6.1 (Debian's i386 "686" kernel, the boot tests' assets) loads snd-sb16 and
# snd-ens1370 from the same kernel package, with OSS emulation, and a busybox shell plays
# a generated tone with cat into /dev/dsp (the SB16, card 0: 500 Hz, 8-bit unsigned mono
# at OSS's default 8000 Hz) and then /dev/dsp1 (the ES1370, card 1: the same bytes, at the
# nearest rate its clock divider makes, 1411200 / 176 = 8018.2 Hz, so 501.1 Hz). The
# machine's recording (--record, instruction-counted clock) must hold both tones, one
# after the other, at their pitch, for about a second each, without gaps.
# usage: linux-sound.sh HANGAR_RUN ASSETS_DIR WAVCHECK.py
set -eu
run=$1 assets=$2 check=$3
boot=$(dirname "$0")/../boot
"$boot/assets.sh" "$assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/test.sh" <<'SCRIPT'
for m in soundcore snd snd-timer snd-pcm snd-seq-device snd-rawmidi snd-hwdep \
         snd-mixer-oss snd-pcm-oss snd-sb-common snd-sb16-dsp snd-sb16-csp snd-opl3-lib \
         snd-mpu401-uart gameport; do
    insmod $(find /lib/modules -name "$m.ko") || echo "insmod $m failed"
done
# An i386 kernel with ISA PnP: the card is configured by hand, as the reference says.
insmod /lib/modules/sound/isa/sb/snd-sb16.ko isapnp=0 port=0x220 irq=5 dma8=1 dma16=5 ||
    echo "insmod snd-sb16 failed"
insmod /lib/modules/sound/pci/snd-ens1370.ko || echo "insmod snd-ens1370 failed"
echo "== cards"
cat /proc/asound/cards
# ALSA leaves the SB16's master and voice volumes at 0 (-62 dB, as good as muted) and
# busybox has no amixer: set them to 0 dB through /dev/port, as amixer would through the
# driver (CT1745 registers 0x30-0x33 via the index and data ports 0x224/0x225).
for r in 060 061 062 063; do
    printf "\\$r" | dd of=/dev/port bs=1 seek=548 2>/dev/null
    printf '\370' | dd of=/dev/port bs=1 seek=549 2>/dev/null
done
ls /dev/dsp*
# One second of a 500 Hz triangle at 8000 Hz: 16 unsigned 8-bit samples per period.
awk 'BEGIN { for (j = 0; j < 16; j++) v[j] = 128 + int(96 * (j < 8 ? j / 4 - 1 : 3 - j / 4));
             for (i = 0; i < 500; i++) for (j = 0; j < 16; j++) printf "%c", v[j] }' \
    > /tmp/tone.raw
echo "tone bytes: $(wc -c < /tmp/tone.raw)"
cat /tmp/tone.raw > /dev/dsp && echo "played on dsp"
sleep 1
cat /tmp/tone.raw > /dev/dsp1 && echo "played on dsp1"
sleep 1
SCRIPT
A="sound/soundcore.ko sound/core/snd.ko sound/core/snd-timer.ko sound/core/snd-pcm.ko
   sound/core/snd-seq-device.ko sound/core/snd-rawmidi.ko sound/core/snd-hwdep.ko
   sound/core/oss/snd-mixer-oss.ko sound/core/oss/snd-pcm-oss.ko
   sound/isa/sb/snd-sb-common.ko sound/isa/sb/snd-sb16-dsp.ko sound/isa/sb/snd-sb16-csp.ko
   sound/drivers/opl3/snd-opl3-lib.ko sound/drivers/mpu401/snd-mpu401-uart.ko
   drivers/input/gameport/gameport.ko sound/isa/sb/snd-sb16.ko sound/pci/snd-ens1370.ko"
# shellcheck disable=SC2086
"$boot/mkinitramfs.sh" "$assets/busybox" "$work/test.sh" "$work/initrd.gz" \
    "$assets/modules" $A
status=0
"$run" -m 128 --kernel "$assets/vmlinuz-686" --initrd "$work/initrd.gz" \
    --append "console=ttyS0" --serial "file:$work/serial.log" --clock icount \
    --soundhw sb16,es1370 --audio none --record "$work/out.wav" \
    --max-insns 60000000000 || status=$?
grep -E "^(==|tone|played|insmod| *[0-9] \[)|sb16|SB16|ens1370|ES1370|dsp" "$work/serial.log" |
    head -40
fail() {
    echo "FAIL: $*"
    tail -30 "$work/serial.log"
    exit 1
}
[ "$status" -eq 0 ] || fail "hangar-run exited with status $status, not 0 (power-off)"
tr -d '\r' < "$work/serial.log" > "$work/serial.txt"
grep -q "^played on dsp$" "$work/serial.txt" || fail "cat into /dev/dsp (the SB16) failed"
grep -q "^played on dsp1$" "$work/serial.txt" || fail "cat into /dev/dsp1 (the ES1370) failed"
# KEEP_WAV=FILE keeps the recording for a look.
[ -n "${KEEP_WAV:-}" ] && cp "$work/out.wav" "$KEEP_WAV"
python3 "$check" "$work/out.wav" --same --tone 0:500:1.0 --tone 0:501.136:1.0
