#!/usr/bin/env python3
"""Crash test with a guest: hangar-run runs disk-writer.asm (a bare-metal program writing
generations of sectors to its IDE disk, flushing, then recording the last flushed
generation in sector 0) on a qcow2 overlay over a raw base, and is killed with SIGKILL at
a random moment, 50 times, each run continuing on the same image; every other run starts
from a fresh internal snapshot, so the guest's writes copy shared clusters. After every kill:
qemu-img check (Debian's qemu-utils; hangar-img check without it) finds no corruption,
leaks allowed, and every generation up to the recorded one is on the disk, except in the
slots the unflushed generations after it were overwriting.

usage: guest-crash.py HANGAR_RUN HANGAR_IMG DISK_WRITER.bin [RUNS]
"""

import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

SLOTS, SPG, SYNC = 1024, 8, 4  # as in disk-writer.asm
CYCLE = bytes(range(256)) * 3


def expected_sector(g, k):
    start = (g * 7 + 8) & 0xff
    return struct.pack('<II', g & 0xffffffff, k) + CYCLE[start:start + 504]


def main():
    run, img, prog = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    qemu_img = shutil.which('qemu-img')
    rng = random.Random(6)
    # On tmpfs when there is one: flushes cost nothing there, so the kills land among the
    # writes and metadata updates instead of after an fdatasync (which a SIGKILL waits for).
    shm = '/dev/shm' if os.access('/dev/shm', os.W_OK) else None
    work = tempfile.mkdtemp(prefix='hangar-guest-crash-', dir=shm)
    try:
        base, disk, raw = (os.path.join(work, n) for n in ('base.raw', 'disk.qcow2', 'out.raw'))
        with open(base, 'wb') as f:
            f.write(b'\xaa' * (8 << 20))
        subprocess.run([img, 'create', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b',
                        'base.raw', '-F', 'raw', disk, '8M'], check=True,
                       stdout=subprocess.DEVNULL)
        leaks = 0
        last = -1
        for n in range(runs):
            # Between runs, internal snapshots (at most two kept): the guest's next writes
            # then copy shared clusters, allocating and freeing all the time.
            if n % 2 == 0:
                subprocess.run([img, 'snapshot', '-c', f's{n}', disk], check=True)
                if n >= 4:
                    subprocess.run([img, 'snapshot', '-d', f's{n - 4}', disk], check=True)
            p = subprocess.Popen([run, '--bios', prog, '--hda', disk, '--hda-format', 'qcow2',
                                  '--debugcon', 'none', '--debug-exit', '--serial', 'none',
                                  '-m', '16'], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            time.sleep(rng.uniform(0.03, 0.3))
            p.kill()
            err = p.communicate()[1].decode(errors='replace')
            if p.returncode != -9:
                print(f'FAIL: run {n}: hangar-run ended by itself ({p.returncode}): {err}')
                return 1
            checker = [qemu_img, 'check', disk] if qemu_img else [img, 'check', disk]
            c = subprocess.run(checker, capture_output=True, text=True)
            if c.returncode not in (0, 3):
                print(f'FAIL: run {n}: {checker[0]} check exit {c.returncode}\n{c.stdout}'
                      f'{c.stderr}')
                return 1
            leaks += c.returncode == 3
            if c.returncode == 3:  # hangar-img check -r leaks, then clean
                subprocess.run([img, 'check', '-r', 'leaks', disk], check=True,
                               stdout=subprocess.DEVNULL)
                if subprocess.run(checker, capture_output=True).returncode != 0:
                    print(f'FAIL: run {n}: leaks remain after hangar-img check -r leaks')
                    return 1
            subprocess.run([img, 'convert', '-O', 'raw', disk, raw], check=True)
            with open(raw, 'rb') as f:
                data = f.read()
            if data[4:8] == b'HGCR':
                g_last = struct.unpack_from('<I', data, 0)[0]
            else:
                g_last = -1
            if g_last < last:
                print(f'FAIL: run {n}: the flushed counter went back from {last} to {g_last}')
                return 1
            last = g_last
            # Slots that unflushed generations g_last+1 .. g_last+SYNC may have touched.
            busy = {(g_last + i) % SLOTS for i in range(1, SYNC + 1)}
            for g in range(max(0, g_last - SLOTS + 1), g_last + 1):
                if g % SLOTS in busy:
                    continue
                for k in range(SPG):
                    lba = 1 + (g % SLOTS) * SPG + k
                    if data[lba * 512:(lba + 1) * 512] != expected_sector(g, k):
                        print(f'FAIL: run {n}: generation {g} (flushed before the kill) '
                              f'lost sector {k}')
                        return 1
        if last < runs:
            print(f'FAIL: the guest flushed only {last + 1} generations in {runs} runs')
            return 1
        print(f'{runs} kills: no corruption, {last + 1} generations flushed and all there, '
              f'leaks after {leaks} kills')
        return 0
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    sys.exit(main())
