#!/usr/bin/env python3
"""Disk-image benchmark (issue 6; docs/testing.md, layer 6): figures, never a test verdict.

1. hangar-img convert against qemu-img convert -t writeback (Debian's qemu-utils; both
   flush the output at the end) on the same 256 MiB raw image (a quarter random bytes, a quarter text, half zeros): raw -> qcow2,
   qcow2 -> raw and raw -> compressed qcow2 (-c), wall time of each and the ratio
   hangar/qemu. Both outputs are compared with qemu-img compare.
2. Guest sequential I/O: Debian's i386 Linux 6.1 (tests/boot assets, ata_piix) writes
   64 MiB to /dev/sda with dd and syncs, drops its page cache and reads them back, on a raw
   image and on a qcow2 image (host clock). Times are the guest's /proc/uptime around each
   dd (the guest clock follows the host's); the ratio qcow2/raw is printed.

usage: bench-img.py HANGAR_IMG HANGAR_RUN CACHE_DIR [--skip-guest]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_DIR = os.path.join(HERE, '..', 'tests', 'boot')
MODULES = ('drivers/scsi/scsi_common.ko drivers/scsi/scsi_mod.ko drivers/ata/libata.ko '
           'drivers/ata/ata_piix.ko lib/crc64.ko crypto/crc64_rocksoft_generic.ko '
           'lib/crc64-rocksoft.ko crypto/crct10dif_common.ko crypto/crct10dif_generic.ko '
           'lib/crc-t10dif.ko block/t10-pi.ko drivers/scsi/sd_mod.ko').split()
IO_MIB = 64

GUEST_SCRIPT = f"""\
for m in {' '.join(MODULES)}; do insmod /lib/modules/$m || echo "insmod $m failed"; done
i=0
while [ ! -b /dev/sda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
read t0 rest < /proc/uptime
dd if=/dev/zero of=/dev/sda bs=1M count={IO_MIB} 2>/dev/null
sync
read t1 rest < /proc/uptime
echo 3 > /proc/sys/vm/drop_caches
read t2 rest < /proc/uptime
dd if=/dev/sda of=/dev/null bs=1M count={IO_MIB} 2>/dev/null
read t3 rest < /proc/uptime
echo "BENCH write=$t0,$t1 read=$t2,$t3"
"""


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t


def make_input(path):
    size = 256 << 20
    quarter = size // 4
    with open(path, 'wb') as f:
        f.write(os.urandom(quarter))
        line = b'hangar disk image benchmark line with some text in it\n'
        f.write((line * (quarter // len(line) + 1))[:quarter])
        f.truncate(size)


def convert_bench(img, work):
    qemu = shutil.which('qemu-img')
    src = os.path.join(work, 'in.raw')
    make_input(src)
    print('convert, 256 MiB (1/4 random, 1/4 text, 1/2 zeros), wall seconds:')
    print(f'  {"":22} {"hangar-img":>10} {"qemu-img":>10} {"ratio":>7}')
    cases = [('raw -> qcow2', ['-O', 'qcow2'], src, 'out.qcow2'),
             ('qcow2 -> raw', ['-O', 'raw'], None, 'out.raw'),
             ('raw -> qcow2 -c', ['-c', '-O', 'qcow2'], src, 'out-c.qcow2')]
    qcow_in = os.path.join(work, 'ref.qcow2')
    subprocess.run([img, 'convert', '-O', 'qcow2', src, qcow_in], check=True)
    for name, args, inp, out in cases:
        inp = inp or qcow_in
        h_out = os.path.join(work, 'h-' + out)
        q_out = os.path.join(work, 'q-' + out)
        th = min(timed([img, 'convert'] + args + [inp, h_out]) for _ in range(2))
        line = f'  {name:22} {th:10.3f}'
        if qemu:
            # -t writeback: qemu-img's default for convert is 'unsafe' (no flush at the end);
            # hangar-img always flushes what it wrote, so both do here.
            tq = min(timed([qemu, 'convert', '-t', 'writeback'] + args + [inp, q_out])
                     for _ in range(2))
            same = subprocess.run([qemu, 'compare', src, h_out],
                                  stdout=subprocess.DEVNULL).returncode == 0
            line += f' {tq:10.3f} {th / tq:7.2f}' + ('' if same else '  OUTPUT DIFFERS')
            os.unlink(q_out)
        sizes = os.path.getsize(h_out) >> 20
        print(line + f'   (hangar output {sizes} MiB)')
        os.unlink(h_out)
    if not qemu:
        print('  qemu-img not installed: no comparison')


def guest_bench(run, cache, work):
    subprocess.run([os.path.join(BOOT_DIR, 'assets.sh'), cache], check=True)
    script = os.path.join(work, 'test.sh')
    with open(script, 'w') as f:
        f.write(GUEST_SCRIPT)
    initrd = os.path.join(work, 'initrd.gz')
    subprocess.run([os.path.join(BOOT_DIR, 'mkinitramfs.sh'), os.path.join(cache, 'busybox'),
                    script, initrd, os.path.join(cache, 'modules')] + MODULES, check=True)
    results = {}
    # Each format twice, alternating; the better run of each counts (shared machines).
    for fmt in ('raw', 'qcow2', 'raw', 'qcow2'):
        disk = os.path.join(work, 'disk.' + fmt)
        subprocess.run([HANGAR_IMG, 'create', '-f', fmt, disk, f'{IO_MIB + 16}M'], check=True,
                       stdout=subprocess.DEVNULL)
        out = subprocess.run([run, '-m', '256', '--kernel', os.path.join(cache, 'vmlinuz-686'),
                              '--initrd', initrd, '--append', 'console=ttyS0 quiet',
                              '--hda', disk, '--serial', 'stdio', '--clock', 'host'],
                             stdout=subprocess.PIPE, text=True, timeout=900).stdout
        line = [x for x in out.splitlines() if x.startswith('BENCH ')]
        if not line or 'insmod' in out and 'failed' in out:
            print(f'guest on {fmt}: no result\n' + out[-2000:])
            return 1
        w, r = (x.split('=')[1].split(',') for x in line[0].split()[1:])
        t = (float(w[1]) - float(w[0]), float(r[1]) - float(r[0]))
        old = results.get(fmt, t)
        results[fmt] = (min(old[0], t[0]), min(old[1], t[1]))
        os.unlink(disk)
    print(f'guest sequential I/O, {IO_MIB} MiB with dd bs=1M (guest seconds):')
    print(f'  {"":8} {"raw":>8} {"qcow2":>8} {"qcow2/raw":>10}')
    for i, name in enumerate(('write', 'read')):
        a, b = results['raw'][i], results['qcow2'][i]
        print(f'  {name:8} {a:8.2f} {b:8.2f} {b / a if a else 0:10.2f}'
              f'   ({IO_MIB / a:.1f} / {IO_MIB / b:.1f} MiB/s)')
    return 0


def main():
    global HANGAR_IMG
    p = argparse.ArgumentParser()
    p.add_argument('hangar_img')
    p.add_argument('hangar_run')
    p.add_argument('cache')
    p.add_argument('--skip-guest', action='store_true')
    a = p.parse_args()
    HANGAR_IMG = a.hangar_img
    work = tempfile.mkdtemp(prefix='hangar-bench-img-')
    try:
        convert_bench(a.hangar_img, work)
        return 0 if a.skip_guest else guest_bench(a.hangar_run, a.cache, work)
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    sys.exit(main())
